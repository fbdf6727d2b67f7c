/**
 * The risk configuration of the liquidation suites (src/core/liquidation/plan.test.ts and
 * src/core/ledger/liquidate.test.ts): USDC at full weight, ETH and BTC with 5% penalties.
 */
export const LIQ_RISK_JSON = {
  quote: 'USDC',
  liquidation: { insuranceShare: '0.5' } as Record<string, unknown>,
  assets: [
    {
      id: 'USDC',
      decimals: 6,
      collateral: { initialWeight: '1', maintenanceWeight: '1' },
      liability: { initialWeight: '1', maintenanceWeight: '1' },
    },
    {
      id: 'ETH',
      decimals: 18,
      collateral: { initialWeight: '0.8', maintenanceWeight: '0.9' },
      liability: { initialWeight: '1.1', maintenanceWeight: '1.05' },
      liquidationPenalty: '0.05',
    } as Record<string, unknown>,
    {
      id: 'BTC',
      decimals: 8,
      collateral: { initialWeight: '0.8', maintenanceWeight: '0.9' },
      liability: { initialWeight: '1.1', maintenanceWeight: '1.05' },
      liquidationPenalty: '0.1',
    },
  ],
  markets: [
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', liquidationFee: '0.025' },
    { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', liquidationFee: '0.025' },
  ],
};
