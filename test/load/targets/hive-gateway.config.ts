// The Hive Gateway config file of the bench's two Hive targets (targets/hive-gateway.ts passes it with
// `--config-path`), as a user would write `gateway.config.ts`; everything not set here is Hive's
// default. A plain object rather than `defineConfig(…)` (an identity function): importing Hive's types
// would bring its global augmentations of graphql's types into this repository's program.
export const gatewayConfig = {
  // In-flight deduplication of identical subgraph fetches is on by default in Hive Gateway; the bench
  // measures it off unless `--dedup on|both` asks for it (the runner sets HIVE_BENCH_DEDUP), because
  // identical-query load flatters it and Tollgate has none to compare with.
  transportEntries: {
    '*.http': { options: { deduplicateInflightRequests: process.env.HIVE_BENCH_DEDUP === 'on' } },
  },
};
