import {
  buildASTSchema,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Principal } from './principal.ts';

/** What a field or type demands of the caller. */
export interface AccessRule {
  authenticated: boolean;
  /** Alternatives (OR) of scope sets (AND), as `@requiresScopes(scopes: [[...]])`. */
  scopes?: readonly (readonly string[])[];
}

export interface AccessRules {
  /** By coordinate: `Type.field` and `Type`. */
  readonly rules: ReadonlyMap<string, AccessRule>;
  /**
   * The supergraph's types, built here from the same SDL as the rules so that both are read with one
   * graphql instance (a schema from another instance fails graphql's type predicates).
   */
  readonly schema: GraphQLSchema;
}

export type DenialCode = 'UNAUTHENTICATED' | 'FORBIDDEN';

export interface Denial {
  /** Response keys from the root to the field that is removed (list indices are found in the data). */
  path: readonly string[];
  code: DenialCode;
  message: string;
}

export interface AuthorizedOperation {
  /** The operation with every denied field removed, fragments inlined. */
  document: DocumentNode;
  denials: Denial[];
  /** True when nothing of the operation is left to execute. */
  empty: boolean;
}

const SPEC = /\/\/specs\.apollo\.dev\/(authenticated|requiresScopes)\/v[\d.]+/;

function stringArg(
  args: readonly { name: { value: string }; value: ValueNode }[] | undefined,
  name: string,
): string | undefined {
  const v = args?.find((a) => a.name.value === name)?.value;
  return v?.kind === Kind.STRING ? v.value : undefined;
}

function scopesOf(value: ValueNode | undefined): string[][] {
  if (value?.kind !== Kind.LIST) return [];
  return value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((s) => (s.kind === Kind.STRING ? [s.value] : [])) : [],
  );
}

/**
 * Reads `@authenticated` and `@requiresScopes` from a supergraph SDL, following `@link(as:)` renames.
 * Applied to an object type, a rule covers every field returning that type.
 */
export function buildAccessRules(supergraphSdl: string): AccessRules {
  const doc = parse(supergraphSdl);
  const names = { authenticated: '', requiresScopes: '' };
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'link') continue;
      const url = stringArg(d.arguments, 'url') ?? '';
      const m = SPEC.exec(url);
      if (!m) continue;
      const spec = m[1] as 'authenticated' | 'requiresScopes';
      names[spec] = stringArg(d.arguments, 'as') ?? spec;
    }
  }
  const rules = new Map<string, AccessRule>();
  const schema = buildASTSchema(doc, { assumeValidSDL: true });
  if (!names.authenticated && !names.requiresScopes) return { rules, schema };
  const read = (
    coordinate: string,
    directives:
      | readonly {
          name: { value: string };
          arguments?: readonly { name: { value: string }; value: ValueNode }[];
        }[]
      | undefined,
  ) => {
    let rule: AccessRule | undefined;
    for (const d of directives ?? []) {
      if (names.authenticated && d.name.value === names.authenticated)
        rule = { ...rule, authenticated: true };
      if (names.requiresScopes && d.name.value === names.requiresScopes) {
        const scopes = scopesOf(d.arguments?.find((a) => a.name.value === 'scopes')?.value);
        rule = { authenticated: true, ...rule, scopes: [...(rule?.scopes ?? []), ...scopes] };
      }
    }
    if (rule) rules.set(coordinate, rule);
  };
  for (const def of doc.definitions) {
    if (
      def.kind === Kind.OBJECT_TYPE_DEFINITION ||
      def.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      def.kind === Kind.OBJECT_TYPE_EXTENSION ||
      def.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      read(def.name.value, def.directives);
      for (const f of def.fields ?? []) read(`${def.name.value}.${f.name.value}`, f.directives);
    } else if (def.kind === Kind.SCALAR_TYPE_DEFINITION || def.kind === Kind.ENUM_TYPE_DEFINITION) {
      read(def.name.value, def.directives);
    }
  }
  return { rules, schema };
}

function allows(rule: AccessRule, principal: Principal): DenialCode | undefined {
  if (principal.kind === 'anonymous') return 'UNAUTHENTICATED';
  if (!rule.scopes?.length) return undefined;
  const held = new Set(principal.scopes);
  return rule.scopes.some((set) => set.every((s) => held.has(s))) ? undefined : 'FORBIDDEN';
}

/** Replaces named fragment spreads by inline fragments, so every selection has one response path. */
function inlineFragments(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  depth = 0,
): SelectionSetNode {
  if (depth > 100) throw new Error('fragments nest too deeply');
  const selections: SelectionNode[] = set.selections.map((sel) => {
    if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const frag = fragments.get(sel.name.value);
      if (!frag) throw new Error(`unknown fragment ${sel.name.value}`);
      return {
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: frag.typeCondition,
        directives: sel.directives,
        selectionSet: inlineFragments(frag.selectionSet, fragments, depth + 1),
      };
    }
    if (sel.selectionSet)
      return { ...sel, selectionSet: inlineFragments(sel.selectionSet, fragments, depth + 1) };
    return sel;
  });
  return { ...set, selections };
}

interface Walk {
  schema: GraphQLSchema;
  rules: ReadonlyMap<string, AccessRule>;
  principal: Principal;
  denials: Denial[];
}

/** Outcome of one selection set: the kept set (null when nothing is left), and whether its parent must go too. */
type Rewritten = { set: SelectionSetNode | null; nullParent: Denial | undefined };

function rewrite(
  set: SelectionSetNode,
  parent: GraphQLCompositeType,
  path: readonly string[],
  w: Walk,
): Rewritten {
  const kept: SelectionNode[] = [];
  let nullParent: Denial | undefined;
  for (const sel of set.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT) {
      const type = sel.typeCondition ? w.schema.getType(sel.typeCondition.name.value) : parent;
      if (!type || !isCompositeType(type)) {
        kept.push(sel);
        continue;
      }
      const inner = rewrite(sel.selectionSet, type, path, w);
      nullParent ??= inner.nullParent;
      if (inner.set) kept.push({ ...sel, selectionSet: inner.set });
      continue;
    }
    if (sel.kind !== Kind.FIELD) {
      kept.push(sel);
      continue;
    }
    const field: FieldNode = sel;
    const name = field.name.value;
    const key = (field.alias ?? field.name).value;
    if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) {
      kept.push(field);
      continue;
    }
    const def = parent.getFields()[name];
    if (!def) {
      kept.push(field);
      continue;
    }
    const named = getNamedType(def.type);
    const fieldPath = [...path, key];
    const rule = w.rules.get(`${parent.name}.${name}`);
    const typeRule = w.rules.get(named.name);
    const code = (rule && allows(rule, w.principal)) ?? (typeRule && allows(typeRule, w.principal));
    if (code) {
      const denial: Denial = {
        path: fieldPath,
        code,
        message:
          code === 'UNAUTHENTICATED'
            ? `Authentication required for ${parent.name}.${name}`
            : `Missing scope for ${parent.name}.${name}`,
      };
      // A denied non-null field cannot be null: the null moves to the nearest nullable parent.
      if (isNonNullType(def.type)) nullParent ??= denial;
      else w.denials.push(denial);
      continue;
    }
    if (!field.selectionSet || !isCompositeType(named)) {
      kept.push(field);
      continue;
    }
    const mark = w.denials.length;
    const inner = rewrite(field.selectionSet, named, fieldPath, w);
    if (inner.nullParent || !inner.set) {
      // This field becomes null (or has nothing left to select): drop it whole, and report it here in
      // place of the denials below it, which no longer have a place in the response.
      const cause: Denial = inner.nullParent ??
        w.denials[mark] ?? {
          path: fieldPath,
          code: 'FORBIDDEN',
          message: `Nothing of ${parent.name}.${name} may be read`,
        };
      w.denials.length = mark;
      const denial = { ...cause, path: fieldPath };
      if (isNonNullType(def.type)) nullParent ??= denial;
      else w.denials.push(denial);
      continue;
    }
    kept.push({ ...field, selectionSet: inner.set });
  }
  return { set: kept.length ? { ...set, selections: kept } : null, nullParent };
}

/**
 * Removes the fields the principal may not see from an operation before it is planned, as Apollo Router
 * does: the rest runs, and each removed field is answered with null and an error at its path. Returns
 * undefined when nothing needs removing (the operation runs as sent).
 */
export function authorizeOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
  access: AccessRules,
  principal: Principal,
): AuthorizedOperation | undefined {
  if (!access.rules.size) return undefined;
  const { schema } = access;
  const ops = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const op = operationName
    ? ops.find((o) => o.name?.value === operationName)
    : ops.length === 1
      ? ops[0]
      : undefined;
  if (!op) return undefined; // Apollo reports the operation-resolution error itself
  const root = schema.getRootType(op.operation);
  if (!root) return undefined;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  const w: Walk = { schema, rules: access.rules, principal, denials: [] };
  const inlined = inlineFragments(op.selectionSet, fragments);
  const out = rewrite(inlined, root, [], w);
  if (out.nullParent) w.denials.push({ ...out.nullParent, path: [] });
  if (!w.denials.length) return undefined;
  const empty = !out.set || Boolean(out.nullParent);
  const operation: OperationDefinitionNode = {
    ...op,
    selectionSet: out.set ?? { kind: Kind.SELECTION_SET, selections: [] },
  };
  return { document: { kind: Kind.DOCUMENT, definitions: [operation] }, denials: w.denials, empty };
}

export interface FieldError {
  message: string;
  path: (string | number)[];
  extensions: { code: DenialCode };
}

/**
 * Puts null at every concrete path of each denial in the response data (walking lists) and returns one
 * error per path. Denials under a parent that came back null produce nothing: there is no field there.
 */
export function applyDenials(
  data: Record<string, unknown> | null | undefined,
  denials: readonly Denial[],
): FieldError[] {
  const errors: FieldError[] = [];
  if (!data) return errors;
  for (const denial of denials) {
    const visit = (node: unknown, i: number, at: (string | number)[]) => {
      if (node === null || node === undefined) return;
      if (Array.isArray(node)) {
        node.forEach((item, index) => {
          visit(item, i, [...at, index]);
        });
        return;
      }
      if (typeof node !== 'object') return;
      const key = denial.path[i]!;
      if (i === denial.path.length - 1) {
        (node as Record<string, unknown>)[key] = null;
        errors.push({ message: denial.message, path: [...at, key], extensions: { code: denial.code } });
        return;
      }
      visit((node as Record<string, unknown>)[key], i + 1, [...at, key]);
    };
    if (denial.path.length) visit(data, 0, []);
  }
  return errors;
}
