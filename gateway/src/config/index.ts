// One configuration schema for the gateway, loaded as defaults < file < env < CLI, validated once, frozen.
export { GatewayConfigSchema, type GatewayConfig, type GatewayConfigInput, type SubgraphConfig } from './schema.ts';
export { loadConfig, loadConfigFromProcess, launcherPidFromProcess, ConfigError, type LoadConfigOptions } from './load.ts';
