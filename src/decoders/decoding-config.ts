// The decoding part of the configuration: `--topic <filter>[=<format>]` routes and the
// `--mapping <file>` of the generic JSON format, resolved and checked once at start-up
// (ConfigError, exit 2, one line). The listener subscribes to the plain filters.
import { ConfigError } from '../config.js';
import { FORMATS, type Format, type TopicRoute } from './index.js';
import { readMappingFile, type SensorMapping } from './mapping-file.js';
import { filterProblem } from './topic-filter.js';

/** The original's topic: its payloads are ECC; every other filter defaults to auto. */
export const ECC_DEFAULT_TOPIC = 'ECCTempHum';

export const TOPIC_HELP =
  `topic filter to subscribe to, optionally =<format> (${FORMATS.join('|')}; default auto, ecc for ${ECC_DEFAULT_TOPIC}); repeatable, wildcards allowed`;
export const MAPPING_HELP = 'JSON file mapping topics to the JSON paths of temperature, humidity ... (format json; its topics are subscribed too)';

export interface DecodingConfig {
  routes: TopicRoute[];
  mappingFile?: string;
  mapping: readonly SensorMapping[];
}

/** `filter=format` → route; a filter without a known format suffix keeps any '=' it has. */
export function parseTopicSpec(spec: string): TopicRoute {
  const eq = spec.lastIndexOf('=');
  let filter = spec;
  let format: Format | undefined;
  if (eq > 0) {
    const suffix = spec.slice(eq + 1);
    if ((FORMATS as readonly string[]).includes(suffix)) {
      filter = spec.slice(0, eq);
      format = suffix as Format;
    } else if (/^[a-z0-9]{1,12}$/.test(suffix) && !spec.slice(0, eq).includes('=')) {
      throw new ConfigError(`--topic ${JSON.stringify(spec)}: unknown format ${JSON.stringify(suffix)}; use one of ${FORMATS.join(', ')}`);
    }
  }
  const problem = filterProblem(filter);
  if (problem) throw new ConfigError(`--topic ${JSON.stringify(spec)} is not a valid MQTT topic filter: it ${problem}`);
  return { subscription: filter, format: format ?? (filter === ECC_DEFAULT_TOPIC ? 'ecc' : 'auto') };
}

/** Routes, the filters to subscribe to, and the mapping file (read now). */
export function resolveDecoding(specs: readonly string[], mappingFile: string | undefined): { topics: string[]; decoding: DecodingConfig } {
  const routes = specs.map(parseTopicSpec);
  const decoding: DecodingConfig = { routes, mapping: [] };
  if (mappingFile !== undefined) {
    if (mappingFile.trim() === '') throw new ConfigError('--mapping is empty: give a file name');
    decoding.mappingFile = mappingFile;
    decoding.mapping = readMappingFile(mappingFile).sensors;
    // A mapping's topics are subscribed too, unless a --topic already names them.
    for (const m of decoding.mapping) {
      if (!routes.some((r) => r.subscription === m.topic)) routes.push({ subscription: m.topic, format: 'json' });
    }
  } else {
    const json = routes.find((r) => r.format === 'json');
    if (json) throw new ConfigError(`--topic ${json.subscription}=json needs --mapping <file> saying where the values are`);
  }
  const topics: string[] = [];
  for (const r of routes) if (!topics.includes(r.subscription)) topics.push(r.subscription);
  return { topics, decoding };
}
