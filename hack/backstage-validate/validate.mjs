#!/usr/bin/env node
// Backstage's own verdict on catalog entities, for Portico's tests of `portico export`.
//
//   node validate.mjs          < entities.json       a JSON array of entities
//   node validate.mjs --yaml   < catalog-info.yaml   one YAML file, parsed as Backstage parses it
//
// Prints a JSON array with one `{ok, errors}` per entity (per non-empty YAML document), in order.
// Exit status: 0 when every input was judged (valid or not), 2 when the input itself is unusable.
//
// Why these steps: they are what Backstage's catalog backend does to an entity it reads from a
// location, in the same order, with the same functions from the same packages, so the verdict
// is Backstage's and not our reading of its docs. Sources (@backstage/plugin-catalog-backend
// 4.0.0, the version bench/peers/backstage runs, and
// @backstage/plugin-catalog-backend-module-scaffolder-entity-model 0.2.26):
//   parse       plugin-catalog-node  processing/parse.cjs.js        parseEntityYaml
//   emit        catalog-backend      processing/ProcessorOutputCollector.cjs.js  envelope check,
//               then the managed-by-location / managed-by-origin-location annotations
//   process     catalog-backend      processing/DefaultCatalogProcessingOrchestrator.cjs.js:
//               envelope -> preProcess -> policy -> validate -> postProcess
//   policy      catalog-backend      service/CatalogBuilder.cjs.js   buildEntityPolicy (defaults)
//   validate    catalog-backend      processors/BuiltinKindsEntityProcessor.cjs.js (8 kinds)
//               scaffolder module    processor/ScaffolderEntitiesProcessor.cjs.js (Template)
//   postProcess both processors parse every relation target with parseEntityRef
// Left out, as they need a running catalog: reading a Location's targets, the placeholder
// resolvers' file reads (reported as errors instead: an export must not contain them),
// catalog.rules (which kinds a location may hold is the installation's configuration).

import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  entityEnvelopeSchemaValidator,
  entitySchemaValidator,
  getCompoundEntityRef,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  makeValidator,
  parseEntityRef,
  resourceEntityV1alpha1Validator,
  stringifyEntityRef,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { ConflictError, InputError, toError } from '@backstage/errors';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';
import YAML from 'yaml';

// Where Backstage would have read the file from; only its form matters (a location ref).
const LOCATION = 'file:/portico-export/catalog-info.yaml';

// catalog-backend processing/util.cjs.js
const validateEntity = entitySchemaValidator();
const validateEntityEnvelope = entityEnvelopeSchemaValidator();

// CatalogBuilder.buildEntityPolicy() with no replaced or added policies.
const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(makeValidator()),
]);

// The processors with a validateEntityKind, in the order the catalog runs them, each with its
// validators in its own order. A validator returns false for a foreign kind or apiVersion and
// throws for an entity of its kind that breaks the kind's schema.
const kindProcessors = [
  {
    name: 'BuiltinKindsEntityProcessor',
    validators: [
      apiEntityV1alpha1Validator,
      componentEntityV1alpha1Validator,
      resourceEntityV1alpha1Validator,
      groupEntityV1alpha1Validator,
      locationEntityV1alpha1Validator,
      userEntityV1alpha1Validator,
      systemEntityV1alpha1Validator,
      domainEntityV1alpha1Validator,
    ],
  },
  { name: 'ScaffolderEntitiesProcessor', validators: [templateEntityV1beta3Validator] },
];

// The relation targets BuiltinKindsEntityProcessor parses in postProcessEntity, per kind:
// [spec field, default kind]. ScaffolderEntitiesProcessor parses a v1beta3 Template's spec.owner.
const relationFields = {
  Component: [
    ['owner', 'Group'],
    ['subcomponentOf', 'Component'],
    ['providesApis', 'API'],
    ['consumesApis', 'API'],
    ['dependsOn', undefined],
    ['dependencyOf', undefined],
    ['system', 'System'],
  ],
  API: [
    ['owner', 'Group'],
    ['system', 'System'],
  ],
  Resource: [
    ['owner', 'Group'],
    ['dependsOn', undefined],
    ['dependencyOf', undefined],
    ['system', 'System'],
  ],
  User: [['memberOf', 'Group']],
  Group: [
    ['parent', 'Group'],
    ['children', 'Group'],
    ['members', 'User'],
  ],
  System: [
    ['owner', 'Group'],
    ['domain', 'Domain'],
  ],
  Domain: [
    ['owner', 'Group'],
    ['subdomainOf', 'Domain'],
  ],
};

const PLACEHOLDERS = new Set(['text', 'json', 'yaml']);

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// PlaceholderProcessor replaces an object whose only key is $text, $json or $yaml with the
// content of the file it names; an exported descriptor that holds one would change meaning.
function findPlaceholders(value, path, found) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => findPlaceholders(item, `${path}[${i}]`, found));
  } else if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0].startsWith('$') && PLACEHOLDERS.has(keys[0].slice(1))) {
      found.push(
        `${path || '<root>'} is a ${keys[0]} placeholder: Backstage would replace it with what it reads from ${JSON.stringify(value[keys[0]])}`,
      );
    } else if (!keys.some(k => k.startsWith('$'))) {
      for (const [k, v] of Object.entries(value)) findPlaceholders(v, path ? `${path}.${k}` : k, found);
    }
  }
}

function message(error) {
  return String(toError(error));
}

// One entity, as the catalog processes an entity it read from LOCATION. Returns the errors.
async function check(raw) {
  // parseEntityYaml emits only plain objects.
  if (!isPlainObject(raw)) {
    return [`Expected object at root, got ${Array.isArray(raw) ? 'array' : typeof raw}`];
  }
  // ProcessorOutputCollector.receive: the envelope, then the location annotations.
  let entity;
  try {
    entity = validateEntityEnvelope(structuredClone(raw));
  } catch (e) {
    return [message(e)];
  }
  const annotations = entity.metadata.annotations || {};
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    return ['Error: metadata.annotations must be a valid object'];
  }
  entity = {
    ...entity,
    metadata: {
      ...entity.metadata,
      annotations: {
        ...annotations,
        [ANNOTATION_ORIGIN_LOCATION]: LOCATION,
        [ANNOTATION_LOCATION]: LOCATION,
      },
    },
  };

  // DefaultCatalogProcessingOrchestrator.processSingleEntity
  try {
    validateEntityEnvelope(entity);
  } catch (e) {
    return [message(new InputError('Entity envelope failed validation before processing', e))];
  }
  const entityRef = stringifyEntityRef(entity);

  // preProcess: PlaceholderProcessor (see findPlaceholders); the other preprocessors only sort
  // arrays and add location annotations, which changes no verdict.
  const placeholders = [];
  findPlaceholders(entity, '', placeholders);
  if (placeholders.length) return placeholders;

  // policy
  try {
    entity = await policy.enforce(entity);
  } catch (e) {
    return [message(new InputError(`Policy check failed for ${stringifyEntityRef(entity)}`, e))];
  }
  if (!entity) return [`Error: Policy unexpectedly returned no data for ${entityRef}`];

  // validate
  if (stringifyEntityRef(entity) !== entityRef) {
    return [
      message(new ConflictError('Fatal: The entity kind, namespace, or name changed during processing')),
    ];
  }
  try {
    validateEntity(entity);
  } catch (e) {
    return [
      message(new ConflictError(`Entity envelope for ${entityRef} failed validation after preprocessing`, e)),
    ];
  }
  let valid = false;
  for (const processor of kindProcessors) {
    try {
      for (const validator of processor.validators) {
        if (await validator.check(entity)) {
          valid = true;
          break;
        }
      }
    } catch (e) {
      return [
        message(
          new InputError(
            `Processor ${processor.name} threw an error while validating the entity ${entityRef}`,
            e,
          ),
        ),
      ];
    }
  }
  if (!valid) {
    return [
      message(
        new InputError(
          `No processor recognized the entity ${entityRef} as valid, possibly caused by a foreign kind or apiVersion`,
        ),
      ),
    ];
  }

  // postProcess: every relation target must parse as an entity ref.
  const selfRef = getCompoundEntityRef(entity);
  const isTemplate = entity.apiVersion === 'scaffolder.backstage.io/v1beta3' && entity.kind === 'Template';
  const processorName = isTemplate ? 'ScaffolderEntitiesProcessor' : 'BuiltinKindsEntityProcessor';
  const targets = isTemplate ? [['owner', 'Group']] : (relationFields[entity.kind] ?? []);
  try {
    for (const [field, defaultKind] of targets) {
      const value = entity.spec?.[field];
      if (!value) continue;
      for (const target of [value].flat()) {
        parseEntityRef(target, { defaultKind, defaultNamespace: selfRef.namespace });
      }
    }
  } catch (e) {
    return [message(new InputError(`Processor ${processorName} threw an error while postprocessing`, e))];
  }
  return [];
}

// parseEntityYaml: every non-null document, YAML 1.2 with merge keys off, as Backstage reads files.
function parseYaml(text) {
  let documents;
  try {
    documents = YAML.parseAllDocuments(text, { merge: false }).filter(d => d);
  } catch (e) {
    return [{ error: `Failed to parse YAML at ${LOCATION}, ${e}` }];
  }
  const items = [];
  for (const document of documents) {
    if (document.errors?.length) {
      items.push({ error: `YAML error at ${LOCATION}, ${document.errors[0]}` });
      continue;
    }
    const json = document.toJSON();
    if (json === null) continue;
    items.push(isPlainObject(json) ? { entity: json } : { error: `Expected object at root, got ${typeof json}` });
  }
  return items;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter(a => a !== '--yaml');
  if (unknown.length) {
    process.stderr.write(`validate.mjs: unknown argument ${unknown[0]} (usage: validate.mjs [--yaml] < input)\n`);
    return 2;
  }
  const text = await readStdin();
  let items;
  if (args.includes('--yaml')) {
    items = parseYaml(text);
  } else {
    let data;
    try {
      data = JSON.parse(text);
    } catch (e) {
      process.stderr.write(`validate.mjs: stdin is not JSON: ${e.message}\n`);
      return 2;
    }
    if (!Array.isArray(data)) {
      process.stderr.write('validate.mjs: stdin must be a JSON array of entities\n');
      return 2;
    }
    items = data.map(entity => ({ entity }));
  }
  const results = [];
  for (const item of items) {
    const errors = 'error' in item ? [item.error] : await check(item.entity);
    results.push({ ok: errors.length === 0, errors });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  return 0;
}

process.exitCode = await main();
