/**
 * The monitoring dashboard.
 */
import { AUDIT_EVENTS, AUDIT_FIELDS, AUTHORIZATION_OUTCOME } from '../../lambda/shared/audit';

/**
 * The Logs Insights query of the dashboard's refusal table: refused OAuth proxy steps counted
 * by step, client kind and reason, most frequent first.
 */
export function refusalsByReasonQuery(): string[] {
  const F = AUDIT_FIELDS;
  return [
    `filter ${F.event} = "${AUDIT_EVENTS.oauthAuthorization}" and ${F.outcome} = "${AUTHORIZATION_OUTCOME.refused}"`,
    `stats count(*) as refusals by ${F.step}, ${F.clientKind}, ${F.reason}`,
    'sort refusals desc',
    'limit 20',
  ];
}
