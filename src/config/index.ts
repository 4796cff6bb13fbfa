export { configError } from './fields.js';
export {
  applyFlags,
  type FlagOverrides,
  loadConfig,
  loadConfigFile,
  parseConfig,
  parseConfigText,
} from './load.js';
export {
  type AclRule,
  type BlazeConfig,
  type CoreConfig,
  defaultConfig,
  type HeartbeatConfig,
  type LimitsConfig,
  type ListenersConfig,
  LOG_LEVELS,
  type LogLevel,
  type PortSetting,
  type SecurityConfig,
  usersFilePath,
} from './schema.js';
