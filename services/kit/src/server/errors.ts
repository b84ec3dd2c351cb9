import { GraphQLError } from 'graphql';

/** A client sent arguments the schema accepts but the service does not (`BAD_USER_INPUT`). */
export class BadUserInputError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'BAD_USER_INPUT' } });
    this.name = 'BadUserInputError';
  }
}

/** The operation needs a caller the gateway vouched for (`UNAUTHENTICATED`). */
export class UnauthenticatedError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'UNAUTHENTICATED' } });
    this.name = 'UnauthenticatedError';
  }
}
