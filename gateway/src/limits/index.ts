// Structural limits on operations (depth, aliases, directives, root fields; tokens via the parser),
// checked while Apollo Server validates, before planning.
export { createLimitsRule, type LimitName, limitError, type OperationLimits } from './limits.ts';
