import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Node = unknown;
const DOC_ID = 'openapi';

/**
 * OpenAPI 3.0 schema -> JSON Schema for Ajv: `nullable: true` becomes a null alternative (on
 * `type`, on `enum`, or around a $ref/allOf), and `#/components/schemas/X` refs point into one
 * schema that holds every component.
 */
function convert(node: Node): Node {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', `${DOC_ID}#/definitions/`);
    } else if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, convert(schema)]),
      );
    } else {
      out[key] = convert(value);
    }
  }
  if (nullable !== true) return out;
  if (out.$ref || out.allOf || out.oneOf || out.anyOf) {
    const { type: _type, ...inner } = out;
    return { anyOf: [{ type: 'null' }, inner] };
  }
  if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

/** Validators for the response schemas of a served OpenAPI 3.0 document. */
export class OpenApiValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });

  constructor(document: { components?: { schemas?: Record<string, unknown> } }) {
    addFormats(this.ajv);
    this.ajv.addSchema({
      $id: DOC_ID,
      definitions: convert(document.components?.schemas ?? {}),
    });
  }

  compile(schema: unknown): ValidateFunction {
    return this.ajv.compile(convert(schema) as object);
  }
}
