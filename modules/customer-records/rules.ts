/**
 * The example module's argument rules, in Cedar (`docs/rules.md`): judged after a caller's
 * roles allow a call and before the tool runs, on its arguments as the tool gets them
 * (`context.input`, defaults applied), the caller (`principal`) and the time
 * (`context.system.now`). `cdk synth` and the tests validate them against the tools' schemas.
 */
export const customerRecordsRules = `
// Analysts page through customer data 20 records at a time at most (the tool allows 50).
@id("analyst-page-limit")
forbid (
  principal,
  action == Mcp::Action::"tool:query_customer_data",
  resource
)
when { principal.groups.contains("analyst") && context.input.limit > 20 };

// Enterprise accounts are never suspended or closed through this server, whoever asks.
@id("enterprise-accounts-stay-open")
forbid (
  principal,
  action == Mcp::Action::"tool:put_record",
  resource
)
when {
  context.input.segment == "enterprise" &&
  ["suspended", "closed"].contains(context.input.status)
};
`;
