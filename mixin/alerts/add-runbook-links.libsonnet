// Adds runbook_url to every alert from $._config.runbookURLPattern (%s = the
// lowercase alert name, the anchor of its section in alerts/runbook.md).
{
  prometheusAlerts+:: {
    groups: [
      group {
        rules: [
          rule {
            annotations+: {
              runbook_url: $._config.runbookURLPattern % std.asciiLower(rule.alert),
            },
          }
          for rule in group.rules
        ],
      }
      for group in super.groups
    ],
  },
}
