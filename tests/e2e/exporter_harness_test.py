#!/usr/bin/env python3
"""Unit tests of exporter_harness's exposition parser (the one every Python test uses)."""
import glob
import math
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import exporter_harness as h  # noqa: E402


class SampleLines(unittest.TestCase):
    def test_name_labels_value(self):
        self.assertEqual(h.parse('a_b:c{cpu="1",role="host"} 42\n'),
                         [("a_b:c", {"cpu": "1", "role": "host"}, 42.0)])

    def test_no_labels_and_empty_label_set(self):
        self.assertEqual(h.parse("up 1\nup2{} 0\n"), [("up", {}, 1.0), ("up2", {}, 0.0)])

    def test_label_value_escapes(self):
        (sample,) = h.parse(r'm{a="back\\slash",b="quote\"d",c="new\nline"} 1')
        self.assertEqual(sample[1], {"a": "back\\slash", "b": 'quote"d', "c": "new\nline"})

    def test_label_value_holding_format_characters(self):
        (sample,) = h.parse('m{subject="comm a} b,c=\\"d\\" #e"} 1')
        self.assertEqual(sample[1], {"subject": 'comm a} b,c="d" #e'})

    def test_blanks_and_trailing_comma_in_label_set(self):
        (sample,) = h.parse('m{ a = "1" , b="2", }\t3')
        self.assertEqual(sample[1:], ({"a": "1", "b": "2"}, 3.0))

    def test_special_and_exponent_values(self):
        values = [v for _, _, v in h.parse("a NaN\nb +Inf\nc -Inf\nd 1.5e-3\ne .5\nf -0\n")]
        self.assertTrue(math.isnan(values[0]))
        self.assertEqual(values[1:], [math.inf, -math.inf, 0.0015, 0.5, 0.0])

    def test_timestamp(self):
        samples, _ = h.parse_exposition("a 1 1700000000000\nb 2 -5\nc 3\n")
        self.assertEqual([s.timestamp for s in samples], [1700000000000, -5, None])
        self.assertEqual(h.parse("a 1 1700000000000"), [("a", {}, 1.0)])

    def test_leading_and_trailing_blanks_and_empty_lines(self):
        self.assertEqual(h.parse("\n  a 1  \n\n"), [("a", {}, 1.0)])


class MetadataLines(unittest.TestCase):
    def test_help_and_type(self):
        _, families = h.parse_exposition(
            "# HELP a Line one\\nback\\\\slash \"quoted\"\n# TYPE a counter\na 1\n")
        self.assertEqual(families["a"], h.Family("counter", 'Line one\nback\\slash "quoted"'))

    def test_help_without_text_and_other_comments(self):
        samples, families = h.parse_exposition("# HELP a\n# just a comment\n#\na 1\n")
        self.assertEqual(families["a"].help, "")
        self.assertEqual(len(samples), 1)

    def test_histogram_samples_belong_to_their_family(self):
        text = ("# TYPE d histogram\nd_bucket{le=\"1\"} 1\nd_bucket{le=\"+Inf\"} 2\n"
                "d_sum 3\nd_count 2\n")
        samples, families = h.parse_exposition(text)
        self.assertEqual(families["d"].type, "histogram")
        self.assertEqual(len(samples), 4)
        with self.assertRaises(h.ExpositionError):
            h.parse(text + "# TYPE d histogram\n")


class Rejected(unittest.TestCase):
    BAD = {
        "no value": "a\n",
        "no value after labels": 'a{b="c"}\n',
        "name glued to value": "a1.0.0\n",
        "name starting with a digit": "1a 1\n",
        "bad value": "a one\n",
        "underscore in value": "a 1_000\n",
        "fractional timestamp": "a 1 1.5\n",
        "extra field": "a 1 2 3\n",
        "unquoted label value": "a{b=c} 1\n",
        "unterminated label value": 'a{b="c} 1\n',
        "unknown escape in label value": 'a{b="\\t"} 1\n',
        "missing comma": 'a{b="1" c="2"} 1\n',
        "unclosed label set": 'a{b="1" 1\n',
        "repeated label": 'a{b="1",b="2"} 1\n',
        "bad label name": 'a{1b="1"} 1\n',
        "repeated series": 'a{b="1"} 1\na{b="1"} 2\n',
        "unknown type": "# TYPE a countr\na 1\n",
        "second TYPE": "# TYPE a gauge\n# TYPE a gauge\na 1\n",
        "TYPE after samples": "a 1\n# TYPE a gauge\n",
        "second HELP": "# HELP a x\n# HELP a y\na 1\n",
        "unknown escape in HELP": "# HELP a x\\ty\na 1\n",
        "bad name in TYPE": "# TYPE 1a gauge\n",
    }

    def test_each_malformed_exposition_is_an_error(self):
        for what, text in self.BAD.items():
            with self.subTest(what):
                with self.assertRaises(h.ExpositionError):
                    h.parse(text)


class RealExpositions(unittest.TestCase):
    def test_golden_files_parse_to_one_sample_per_sample_line(self):
        files = sorted(glob.glob(os.path.join(HERE, "..", "golden", "*.prom")))
        self.assertTrue(files)
        for path in files:
            with open(path) as f:
                # golden_test.py writes collector durations as <duration>
                text = f.read().replace("<duration>", "0.001").replace("<value>", "1")
            with self.subTest(os.path.basename(path)):
                lines = [line for line in text.splitlines() if line and line[0] != "#"]
                samples, families = h.parse_exposition(text)
                self.assertEqual(len(samples), len(lines))
                self.assertTrue(all(fam.type and fam.help is not None
                                    for fam in families.values()))


class SelectAndValue(unittest.TestCase):
    SAMPLES = h.parse('m{cpu="0",k="a"} 1\nm{cpu="1",k="a"} 2\nn 3\n')

    def test_select_by_labels(self):
        self.assertEqual(len(h.select(self.SAMPLES, "m", k="a")), 2)
        self.assertEqual(h.select(self.SAMPLES, "m", cpu="1"), [("m", {"cpu": "1", "k": "a"}, 2)])

    def test_value_needs_exactly_one(self):
        self.assertEqual(h.value(self.SAMPLES, "n"), 3.0)
        with self.assertRaises(AssertionError):
            h.value(self.SAMPLES, "m", k="a")
        with self.assertRaises(AssertionError):
            h.value(self.SAMPLES, "absent")


if __name__ == "__main__":
    unittest.main()
