import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { compileDefinitions, type CompiledProcess } from '../engine/index.ts';
import { BpmnParseError, parseBpmn } from '../engine/model/parse.ts';
import { validateDefinitions, type DeployError, type ValidateOptions } from '../engine/model/validate.ts';
import type { Db, DbOrTx } from '../db/database.ts';
import type { ProcessDefinitionRow } from '../db/tables/processes.table.ts';

/**
 * Deploying diagrams and finding the compiled model of a version. A deploy is validated in full before
 * anything is written; the write is one transaction, serialised per process key, so two deploys of the
 * same key cannot both become version n.
 */

export class DeployRefusedError extends Error {
  readonly code = 'DEPLOY_REFUSED' as const;
  constructor(readonly errors: DeployError[]) {
    super(`The diagram cannot be deployed: ${errors.length} problem(s).`);
  }
}

export interface DeployedProcess {
  key: string;
  version: number;
  name: string | null;
  executable: boolean;
  /** False when the same diagram was deployed before: the existing version is answered. */
  created: boolean;
  definitionId: string;
}

export interface DeployResult {
  processes: DeployedProcess[];
  /** True when at least one process got a new version. */
  changed: boolean;
}

export function hashXml(xml: string): string {
  return createHash('sha256').update(xml, 'utf8').digest('hex');
}

/** Parse and validate without storing: the refusal list, or the processes it holds. */
export async function checkDiagram(input: string | Uint8Array, options: ValidateOptions) {
  let parsed;
  try {
    parsed = await parseBpmn(input);
  } catch (err) {
    if (err instanceof BpmnParseError) {
      throw new DeployRefusedError([{ elementId: '(file)', elementType: 'xml', message: err.line ? `${err.message} (line ${err.line})` : err.message }]);
    }
    throw err;
  }
  const result = validateDefinitions(parsed, options);
  if (result.errors.length > 0) throw new DeployRefusedError(result.errors);
  if (result.processes.length === 0) {
    throw new DeployRefusedError([{ elementId: String(parsed.definitions.id ?? '(definitions)'), elementType: 'bpmn:Definitions', message: 'The file contains no process.' }]);
  }
  return { parsed, processes: result.processes };
}

export async function deployDiagram(db: Db, input: string | Uint8Array, options: ValidateOptions & { actor: string; fileName?: string | null }): Promise<DeployResult> {
  const { parsed, processes } = await checkDiagram(input, options);
  const messageStarts = new Map<string, string[]>();
  for (const compiled of processes.some((p) => p.executable) ? compileDefinitions(parsed.definitions) : []) {
    messageStarts.set(compiled.key, [...compiled.startEvents.message.map((m) => m.messageName)]);
  }
  const hash = hashXml(parsed.xml);
  return db.transaction().execute(async (trx) => {
    for (const p of [...processes].sort((a, b) => a.id.localeCompare(b.id))) {
      await sql`select pg_advisory_xact_lock(hashtext(${'ordo-deploy:' + p.id}))`.execute(trx);
    }
    const out: DeployedProcess[] = [];
    let deploymentId: string | null = null;
    for (const p of processes) {
      const latest = await trx.selectFrom('process_definitions').selectAll().where('key', '=', p.id).orderBy('version', 'desc').limit(1).executeTakeFirst();
      if (latest && latest.hash === hash) {
        out.push({ key: p.id, version: latest.version, name: latest.name, executable: latest.executable, created: false, definitionId: latest.id });
        continue;
      }
      if (!deploymentId) {
        const dep = await trx.insertInto('deployments').values({ xml: parsed.xml, hash, file_name: options.fileName ?? null, deployed_by: options.actor }).returning('id').executeTakeFirstOrThrow();
        deploymentId = dep.id;
      }
      const version = (latest?.version ?? 0) + 1;
      const row = await trx
        .insertInto('process_definitions')
        .values({ deployment_id: deploymentId, key: p.id, version, name: p.name, executable: p.executable, message_starts: messageStarts.get(p.id) ?? [], hash })
        .returning('id')
        .executeTakeFirstOrThrow();
      out.push({ key: p.id, version, name: p.name, executable: p.executable, created: true, definitionId: row.id });
    }
    return { processes: out, changed: out.some((p) => p.created) };
  });
}

export async function latestDefinition(db: DbOrTx, key: string, options: { executableOnly?: boolean } = {}): Promise<ProcessDefinitionRow | undefined> {
  let q = db.selectFrom('process_definitions').selectAll().where('key', '=', key);
  if (options.executableOnly) q = q.where('executable', '=', true);
  return q.orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function definitionByVersion(db: DbOrTx, key: string, version: number) {
  return db
    .selectFrom('process_definitions as d')
    .innerJoin('deployments as dep', 'dep.id', 'd.deployment_id')
    .selectAll('d')
    .select(['dep.xml', 'dep.deployed_by', 'dep.deployed_at', 'dep.file_name'])
    .where('d.key', '=', key)
    .where('d.version', '=', version)
    .executeTakeFirst();
}

/**
 * Compiled models by definition id. A version never changes once deployed, so an entry never goes stale;
 * the cache only bounds memory.
 */
export class ModelCache {
  private readonly models = new Map<string, CompiledProcess>();
  private readonly loading = new Map<string, Promise<CompiledProcess>>();

  constructor(private readonly maxEntries = 500) {}

  async get(db: DbOrTx, definitionId: string): Promise<CompiledProcess> {
    const hit = this.models.get(definitionId);
    if (hit) return hit;
    let pending = this.loading.get(definitionId);
    if (!pending) {
      pending = this.load(db, definitionId).finally(() => this.loading.delete(definitionId));
      this.loading.set(definitionId, pending);
    }
    return pending;
  }

  private async load(db: DbOrTx, definitionId: string): Promise<CompiledProcess> {
    const row = await db
      .selectFrom('process_definitions as d')
      .innerJoin('deployments as dep', 'dep.id', 'd.deployment_id')
      .select(['d.key', 'd.executable', 'dep.xml'])
      .where('d.id', '=', definitionId)
      .executeTakeFirstOrThrow();
    if (!row.executable) throw new Error(`Process ${row.key} (definition ${definitionId}) is not executable.`);
    const parsed = await parseBpmn(row.xml);
    const model = compileDefinitions(parsed.definitions).find((m) => m.key === row.key);
    if (!model) throw new Error(`Process ${row.key} is missing from its deployment.`);
    if (this.models.size >= this.maxEntries) this.models.delete(this.models.keys().next().value!);
    this.models.set(definitionId, model);
    return model;
  }
}
