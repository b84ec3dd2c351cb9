// One configuration schema for the gateway, loaded as defaults < file < env < CLI, validated once, frozen.

export type { ResolvedGraph } from './graphs.ts';
export {
  ConfigError,
  type ConfigFlags,
  configFileFromProcess,
  configFileOf,
  type LoadConfigOptions,
  launcherPidFromProcess,
  loadConfig,
  loadConfigFromProcess,
} from './load.ts';
export {
  type GatewayConfig,
  type GatewayConfigInput,
  GatewayConfigSchema,
  graphConfigs,
  type SubgraphConfig,
} from './schema.ts';
