/**
 * The orders module's argument rules (Cedar, `docs/rules.md`), as docs/modules.md adds them
 * (`full-module.ts` declares them): judged after the caller's roles allow a call and before
 * the tool runs.
 */
export const ordersRules = `
// Orders ord-9… are staff orders: clerks do not see them.
@id("staff-orders-not-for-clerks")
forbid (principal, action == Mcp::Action::"tool:get_order", resource)
when { principal.groups.contains("clerk") && context.input.id like "ord-9*" };
`;
