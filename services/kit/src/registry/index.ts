// Finds the sample subgraphs on disk, for the launcher and the scaffolder.
export { listServices, type ServiceInfo } from './list-services.ts';
