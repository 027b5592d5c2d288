// Small helpers shared by the alerts and the recording rules.
{
  // '5m' -> '5 minutes', '1h' -> '1 hour', '30s' -> '30 seconds': for
  // descriptions that say how long a condition has held.
  durationWords(d)::
    local unit = std.substr(d, std.length(d) - 1, 1);
    local n = std.parseInt(std.substr(d, 0, std.length(d) - 1));
    local word = { s: 'second', m: 'minute', h: 'hour', d: 'day' }[unit];
    if n == 1 then '1 ' + word else '%d %ss' % [n, word],

  // PromQL seconds of a duration: '4h' -> '4 * 3600'.
  durationSeconds(d)::
    local unit = std.substr(d, std.length(d) - 1, 1);
    local n = std.parseInt(std.substr(d, 0, std.length(d) - 1));
    local factor = { s: 1, m: 60, h: 3600, d: 86400 }[unit];
    if factor == 1 then '%d' % n else '%d * %d' % [n, factor],

  // 0.1 -> '10%'.
  percent(ratio):: '%d%%' % std.floor(ratio * 100 + 0.5),

  // Labels every per-host aggregation keeps.
  hostLabels(config):: '%s, job, instance' % config.clusterLabel,
}
