#!/usr/bin/env python3
"""Rewrites tests/alerts/hostiso.rules_test.yml for a non-default mixin _config.

Usage: rewrite_rules_test.py TEST_YML RULES_YML OLD_JOB NEW_JOB OLD_RUNBOOK NEW_RUNBOOK OUT

The unit tests pin job="OLD_JOB" in their input series and expected labels, and
the runbook URL prefix in expected annotations; the rewritten copy expects
NEW_JOB and NEW_RUNBOOK instead and loads RULES_YML. Everything else (values,
thresholds, descriptions) must hold unchanged for the rendered rules.
"""
import sys

import yaml


def main(argv):
    if len(argv) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    test_yml, rules_yml, old_job, new_job, old_rb, new_rb, out = argv[1:]
    with open(test_yml, encoding="utf-8") as f:
        text = f.read()
    for old, new in (('job="%s"' % old_job, 'job="%s"' % new_job),
                     ("job: '%s'" % old_job, "job: '%s'" % new_job),
                     ("job: %s\n" % old_job, "job: %s\n" % new_job),
                     (old_rb, new_rb)):
        text = text.replace(old, new)
    doc = yaml.safe_load(text)
    doc["rule_files"] = [rules_yml]
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, sort_keys=False, width=1000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
