import type {
  ConstDirectiveNode,
  DocumentNode,
  GraphQLArgument,
  GraphQLCompositeType,
  GraphQLField,
  GraphQLInputField,
  GraphQLInterfaceType,
  GraphQLNamedType,
  GraphQLObjectType,
  GraphQLSchema,
  SelectionSetNode,
} from 'graphql';
import {
  buildASTSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  validateSchema,
  valueFromASTUntyped,
} from 'graphql';
import { CostAnalysisError, messageOf } from './errors.ts';

/** `@listSize` as read from the schema, with the spec defaults filled in. */
export interface ListSizeSpec {
  readonly assumedSize: number | undefined;
  readonly slicingArguments: readonly string[];
  readonly sizedFields: readonly string[];
  /** @default true */
  readonly requireOneSlicingArgument: boolean;
}

/** Cost metadata of one schema, built once per schema load and shared by every request. */
export interface CostModel {
  /** Schema built from the SDL, used for type lookups and variable coercion. */
  readonly schema: GraphQLSchema;
  /**
   * `@cost` weights keyed by schema coordinate: `Type` (object, scalar, enum), `Type.field`,
   * `Type.field(arg:)` and `Input.field`.
   */
  readonly weights: ReadonlyMap<string, number>;
  /** `@listSize` keyed by field coordinate `Type.field`. */
  readonly listSizes: ReadonlyMap<string, ListSizeSpec>;
}

/** Per-field facts the walkers need, resolved once so a request does no string building or lookups. */
export interface FieldInfo {
  /** Unique per field; part of memo keys. */
  readonly id: number;
  readonly coordinate: string;
  readonly def: GraphQLField<unknown, unknown>;
  readonly parent: GraphQLObjectType | GraphQLInterfaceType;
  /** Field `@cost`, else the return type's `@cost`, else 1 for object/interface/union and 0 for leaves. */
  readonly weight: number;
  readonly isList: boolean;
  /** The named return type when it has a selection set. */
  readonly composite: GraphQLCompositeType | undefined;
  readonly listSize: ResolvedListSize | undefined;
  /** Parsed `@join__field(requires:)` selections, resolved on `parent`. */
  readonly requires: readonly SelectionSetNode[];
}

export interface ResolvedListSize {
  readonly assumedSize: number | undefined;
  /** `first` or, for nested slicing arguments such as `page.size`, `{ arg: 'page', path: ['size'] }`. */
  readonly slicing: readonly { readonly arg: string; readonly path: readonly string[] }[];
  readonly sizedFields: ReadonlySet<string>;
  readonly requireOne: boolean;
}

/**
 * Lookups for the per-request walkers, all precomputed: they run for every field of every request, and
 * graphql-js's `isObjectType`-style checks are slow on their negative path outside NODE_ENV=production.
 */
export interface ModelIndex {
  field(scope: GraphQLCompositeType, name: string): FieldInfo | undefined;
  /** Argument or input field `@cost`, else its named type's `@cost`; undefined when neither is set. */
  inputWeight(def: GraphQLArgument | GraphQLInputField): number | undefined;
  compositeType(name: string): GraphQLCompositeType | undefined;
  /** Possible object types of an interface or union; undefined for an object type. */
  possibleTypes(type: GraphQLCompositeType): readonly GraphQLObjectType[] | undefined;
  /** Whether an object of type `runtime` matches the type condition `condition`. */
  applies(condition: GraphQLCompositeType, runtime: GraphQLObjectType): boolean;
}

const COST_IDENTITY = 'https://specs.apollo.dev/cost';
const FEDERATION_IDENTITY = 'https://specs.apollo.dev/federation';
const JOIN_IDENTITY = 'https://specs.apollo.dev/join';

// The index is kept off the public object so `CostModel` stays a plain, documented shape.
const indexes = new WeakMap<CostModel, ModelIndex>();
let nextFieldId = 0;

/**
 * Reads `@cost` and `@listSize` from a composed supergraph SDL (Federation 2.9+, cost spec v0.1) or from a
 * plain SDL that declares the directives. Directive names renamed through `@link(as:)` or `import` are
 * honoured. Uses the graphql-js AST rather than federation-internals' `Supergraph.build`, so links marked
 * `for: SECURITY` (authenticated, requiresScopes, policy) are never rejected.
 */
export function buildCostModel(supergraphSdl: string): CostModel {
  let document: DocumentNode;
  try {
    document = parse(supergraphSdl, { noLocation: true });
  } catch (error) {
    throw new CostAnalysisError('COST_SCHEMA_INVALID', `Cannot parse schema SDL: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const names = directiveNames(document);

  let schema: GraphQLSchema;
  try {
    // assumeValidSDL: supergraph SDL uses link/join machinery that plain SDL validation would reject.
    schema = buildASTSchema(document, { assumeValidSDL: true });
  } catch (error) {
    throw new CostAnalysisError('COST_SCHEMA_INVALID', `Cannot build schema: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const problems = validateSchema(schema);
  if (problems.length > 0) {
    throw new CostAnalysisError(
      'COST_SCHEMA_INVALID',
      `Invalid schema: ${problems
        .slice(0, 3)
        .map((p) => p.message)
        .join('; ')}`,
    );
  }

  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSizeSpec>();
  const requires = new Map<string, SelectionSetNode[]>();

  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const typeWeight = readWeight(directivesOf(type, names.cost), type.name);
    if (typeWeight !== undefined) weights.set(type.name, typeWeight);

    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        const own = field.astNode?.directives ?? [];
        const weight = readWeight(named(own, names.cost), coordinate);
        if (weight !== undefined) weights.set(coordinate, weight);
        const listSize = readListSize(named(own, names.listSize), field, coordinate);
        if (listSize) listSizes.set(coordinate, listSize);
        if (names.joinField) {
          const sets = readRequires(named(own, names.joinField), coordinate);
          if (sets.length > 0) requires.set(coordinate, sets);
        }
        for (const arg of field.args) {
          const argCoordinate = `${coordinate}(${arg.name}:)`;
          const argWeight = readWeight(named(arg.astNode?.directives ?? [], names.cost), argCoordinate);
          if (argWeight !== undefined) weights.set(argCoordinate, argWeight);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        const weight = readWeight(named(field.astNode?.directives ?? [], names.cost), coordinate);
        if (weight !== undefined) weights.set(coordinate, weight);
      }
    }
  }

  const model: CostModel = Object.freeze({ schema, weights, listSizes });
  indexes.set(model, buildIndex(model, requires));
  return model;
}

/**
 * Whether the schema applies `@cost` or `@listSize` anywhere (defining the directives is not enough).
 * A schema that does not says nothing about its list sizes, and is priced with `directiveFreeListSize`.
 */
export function declaresCostDirectives(model: CostModel): boolean {
  return model.weights.size > 0 || model.listSizes.size > 0;
}

/** Internal: the per-field index of a model (built lazily for models not made by `buildCostModel`). */
export function indexOf(model: CostModel): ModelIndex {
  let index = indexes.get(model);
  if (!index) {
    index = buildIndex(model, new Map());
    indexes.set(model, index);
  }
  return index;
}

function buildIndex(model: CostModel, requires: ReadonlyMap<string, SelectionSetNode[]>): ModelIndex {
  const { schema, weights, listSizes } = model;
  const fields = new Map<GraphQLCompositeType, Map<string, FieldInfo>>();
  const inputs = new Map<GraphQLArgument | GraphQLInputField, number>();
  const composites = new Map<string, GraphQLCompositeType>();
  const possible = new Map<
    GraphQLCompositeType,
    { list: GraphQLObjectType[]; set: Set<GraphQLObjectType> }
  >();
  const namedWeight = (type: GraphQLNamedType): number | undefined => weights.get(type.name);

  for (const type of Object.values(schema.getTypeMap())) {
    if (isCompositeType(type)) composites.set(type.name, type);
    if (isAbstractType(type)) {
      const list = [...schema.getPossibleTypes(type)];
      possible.set(type, { list, set: new Set(list) });
    }
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      const byName = new Map<string, FieldInfo>();
      fields.set(type, byName);
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        const returned = getNamedType(field.type);
        const spec = listSizes.get(coordinate);
        byName.set(field.name, {
          id: nextFieldId++,
          coordinate,
          def: field,
          parent: type,
          weight: weights.get(coordinate) ?? namedWeight(returned) ?? (isCompositeType(returned) ? 1 : 0),
          isList: isListType(getNullableType(field.type)),
          composite: isCompositeType(returned) ? returned : undefined,
          listSize: spec && resolveListSize(spec),
          requires: requires.get(coordinate) ?? [],
        });
        for (const arg of field.args) {
          const w = weights.get(`${coordinate}(${arg.name}:)`) ?? namedWeight(getNamedType(arg.type));
          if (w !== undefined) inputs.set(arg, w);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        const w = weights.get(`${type.name}.${field.name}`) ?? namedWeight(getNamedType(field.type));
        if (w !== undefined) inputs.set(field, w);
      }
    }
  }
  return {
    field: (scope, name) => fields.get(scope)?.get(name),
    inputWeight: (def) => inputs.get(def),
    compositeType: (name) => composites.get(name),
    possibleTypes: (type) => possible.get(type)?.list,
    applies: (condition, runtime) =>
      condition === runtime || possible.get(condition)?.set.has(runtime) === true,
  };
}

function resolveListSize(spec: ListSizeSpec): ResolvedListSize {
  return {
    assumedSize: spec.assumedSize,
    slicing: spec.slicingArguments.map((name) => {
      const [arg = name, ...path] = name.split('.');
      return { arg, path };
    }),
    sizedFields: new Set(spec.sizedFields),
    requireOne: spec.requireOneSlicingArgument,
  };
}

interface DirectiveNames {
  cost: string;
  listSize: string;
  joinField: string | undefined;
}

interface Link {
  identity: string;
  namespace: string;
  /** Imported element (`@listSize`) → local name (`@listSize` or its `as:`). */
  imports: Map<string, string>;
}

/**
 * Resolves local directive names per the link spec: the spec's own-name directive is `@<namespace>`, other
 * directives are `@<namespace>__<name>` unless imported (optionally renamed). Without a cost link, a
 * federation link's imports apply (subgraph SDL); without either, the plain names are used.
 */
function directiveNames(document: DocumentNode): DirectiveNames {
  const links: Link[] = [];
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of def.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const link = readLink(directive);
      if (link) links.push(link);
    }
  }
  const find = (identity: string) => links.find((l) => l.identity === identity);
  const nameIn = (link: Link, element: string, isRoot: boolean): string =>
    link.imports.get(`@${element}`)?.slice(1) ?? (isRoot ? link.namespace : `${link.namespace}__${element}`);

  const cost = find(COST_IDENTITY);
  const federation = find(FEDERATION_IDENTITY);
  const join = find(JOIN_IDENTITY);
  return {
    cost: cost ? nameIn(cost, 'cost', true) : federation ? nameIn(federation, 'cost', false) : 'cost',
    listSize: cost
      ? nameIn(cost, 'listSize', false)
      : federation
        ? nameIn(federation, 'listSize', false)
        : 'listSize',
    joinField: join && nameIn(join, 'field', false),
  };
}

function readLink(directive: ConstDirectiveNode): Link | undefined {
  const args = argumentsOf(directive);
  const url = args.get('url');
  if (typeof url !== 'string') return undefined;
  const identity = /^(.*)\/v\d+\.\d+\/?$/.exec(url)?.[1] ?? url.replace(/\/$/, '');
  const as = args.get('as');
  const namespace = typeof as === 'string' ? as : (identity.split('/').pop() ?? identity);
  const imports = new Map<string, string>();
  const list = args.get('import');
  for (const item of Array.isArray(list) ? list : []) {
    if (typeof item === 'string') {
      imports.set(item, item);
    } else if (item !== null && typeof item === 'object') {
      const { name, as: alias } = item as { name?: unknown; as?: unknown };
      if (typeof name === 'string') imports.set(name, typeof alias === 'string' ? alias : name);
    }
  }
  return { identity, namespace, imports };
}

function argumentsOf(directive: ConstDirectiveNode): Map<string, unknown> {
  return new Map((directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

function named(directives: readonly ConstDirectiveNode[], name: string): ConstDirectiveNode[] {
  return directives.filter((d) => d.name.value === name);
}

function directivesOf(type: GraphQLNamedType, name: string): ConstDirectiveNode[] {
  // Types may be annotated in `extend type` blocks as well as in their definition.
  const nodes = [type.astNode, ...(type.extensionASTNodes ?? [])];
  return nodes.flatMap((node) => named(node?.directives ?? [], name));
}

function readWeight(directives: readonly ConstDirectiveNode[], coordinate: string): number | undefined {
  const directive = directives[0];
  if (!directive) return undefined;
  const raw = argumentsOf(directive).get('weight');
  // IBM's original spec types weight as a String ("2.0"); accept it so either form of SDL works.
  const weight = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof weight !== 'number' || !Number.isFinite(weight)) {
    throw new CostAnalysisError('COST_SCHEMA_INVALID', `@cost on ${coordinate} needs a numeric weight`, {
      coordinate,
    });
  }
  return weight;
}

function readListSize(
  directives: readonly ConstDirectiveNode[],
  field: GraphQLField<unknown, unknown>,
  coordinate: string,
): ListSizeSpec | undefined {
  const directive = directives[0];
  if (!directive) return undefined;
  const args = argumentsOf(directive);
  const invalid = (why: string) =>
    new CostAnalysisError('COST_SCHEMA_INVALID', `@listSize on ${coordinate}: ${why}`, { coordinate });

  const assumed = args.get('assumedSize');
  if (assumed != null && (typeof assumed !== 'number' || !Number.isInteger(assumed) || assumed < 0)) {
    throw invalid('assumedSize must be a non-negative Int');
  }
  const strings = (key: string): string[] => {
    const value = args.get(key);
    if (value == null) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw invalid(`${key} must be a list of strings`);
    }
    return value;
  };
  const slicingArguments = strings('slicingArguments');
  for (const name of slicingArguments) {
    const arg = name.split('.')[0];
    if (!field.args.some((a) => a.name === arg))
      throw invalid(`slicing argument "${name}" is not an argument`);
  }
  const requireOne = args.get('requireOneSlicingArgument');
  return Object.freeze({
    assumedSize: typeof assumed === 'number' ? assumed : undefined,
    slicingArguments: Object.freeze(slicingArguments),
    sizedFields: Object.freeze(strings('sizedFields')),
    requireOneSlicingArgument: typeof requireOne === 'boolean' ? requireOne : true,
  });
}

function readRequires(directives: readonly ConstDirectiveNode[], coordinate: string): SelectionSetNode[] {
  const sets: SelectionSetNode[] = [];
  for (const directive of directives) {
    const requires = argumentsOf(directive).get('requires');
    if (typeof requires !== 'string' || requires.trim() === '') continue;
    try {
      const doc = parse(`{${requires}}`, { noLocation: true });
      const op = doc.definitions[0];
      if (op?.kind === Kind.OPERATION_DEFINITION) sets.push(op.selectionSet);
    } catch (error) {
      throw new CostAnalysisError(
        'COST_SCHEMA_INVALID',
        `@join__field(requires:) on ${coordinate}: ${messageOf(error)}`,
        { coordinate, cause: error },
      );
    }
  }
  return sets;
}
