import { IsIn, IsOptional, Matches } from 'class-validator';
import { EnvDuration } from './decorators';

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/**
 * OpenTelemetry tracing, with the standard OTEL_* names. Tracing is on only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise no SDK or instrumentation is loaded.
 */
export class TracingEnv {
  /** Base URL of an OTLP/HTTP receiver (a collector); spans go to `<url>/v1/traces`. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'must be an http:// or https:// URL without query or fragment',
  })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** Encoding of exported spans. */
  @IsIn(OTLP_PROTOCOLS, { message: `must be one of ${OTLP_PROTOCOLS.join(', ')}` })
  OTEL_EXPORTER_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

  /** Headers sent with every export, `key=value,key2=value2` (URL-encoded values): often a secret. */
  @IsOptional()
  @Matches(/^\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=[^,]*(,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=[^,]*)*$/, {
    message: 'must be key=value pairs separated by commas',
  })
  OTEL_EXPORTER_OTLP_HEADERS?: string;

  /** The service.name of the spans; empty: payouts-api, payouts-worker or payouts-all by role. */
  @IsOptional()
  @Matches(/^[\w.\-/]{1,100}$/, { message: 'must be 1-100 letters, digits, or . _ - /' })
  OTEL_SERVICE_NAME?: string;

  /** How long finished spans wait to be exported in one batch. */
  @EnvDuration(1)
  OTEL_BSP_SCHEDULE_DELAY = 5_000;
}
