// A non-default _config for the tests: another job selector, cluster label,
// and runbook URL pattern.
{
  _config+:: {
    hostisoSelector: 'job="compute-hostiso"',
    clusterLabel: 'region',
    runbookURLPattern: 'https://wiki.example.internal/ops/hostiso-runbook.html#%s',
  },
}
