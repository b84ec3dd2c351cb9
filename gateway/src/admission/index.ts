// Admission of GraphQL requests under load: an adaptive concurrency limit with a short queue, the
// connection cap, and the count of every refusal (docs/reliability.md#overload).
export { type Admission, type AdmissionConfig, type AdmissionSnapshot, createAdmission } from './gate.ts';
