/**
 * Sealed values as deployed stacks hold them: made by the proxy before its records got
 * readable names (main at c0e3059), by driving its real endpoints (`proxy-fixture.ts`,
 * `approval-page-fixture.ts`) under {@link SEALED_BEFORE_KEY}, the clock at
 * {@link SEALED_AT_MS}. Never regenerate them: they stand for values already issued (DCR
 * client ids live as long as the client; tickets, transactions, codes, families and cookies
 * live minutes to days), which every later version must still open.
 *
 * `wire` is each value's plaintext as sealed: the compact form, byte for byte.
 */
import { SEAL_PURPOSES } from '../../../lambda/oauth-proxy/ports';

/** When they were sealed (each expires some time after). */
export const SEALED_AT_MS = Date.UTC(2026, 11, 1, 12);

/** The AES-256-GCM key the values below were sealed with (an `AesSealer`'s key). */
export const SEALED_BEFORE_KEY = Buffer.from(
  '5eab1ed05eab1ed05eab1ed05eab1ed05eab1ed05eab1ed05eab1ed05eab1ed0',
  'hex',
);

export const SEALED_BEFORE = {
  /** The consent form's ticket for the pre-registered client, with `state` and two scopes. */
  consentTicket: {
    purpose: SEAL_PURPOSES.consent,
    sealed:
      'y_atsrCiVe_2wnA2zSfmG9HKduvNQ4T8RQhUQ23SsYwAnyTPWNEjECEvgp2V9q86l3H3xvm6YxV_A4tdNeVqif27CiPjSevXV2z4oGuLyXwp2vQDmM91Zs6jUZL5IiLZSz4IRDDNbXtW9oyWrxAvoEal9yIWN6Opi1vFPNv15xsYVFbpjOXTfj_hJeNG7HeLAhYAmUwfzn7Ta8YyW2p4Jo6LtPYKO50lUomR1DQ0A_A41MpKM2w0yOZfwfYm5fsw3YZOQH7pDT1i7XB5llCowGHH7oi8hiTlr8HAEuqlnzBPMydIPiYQY_774FBiNFKJixiOCp6aRRniqmqiBm6EVeTmTZoZBnNCPhI9yO15pwA7PHFmbvivrPRolcO248DUozPyW9KlqASYJsP1EtOdFZz0LGWHztMEfxJ0iraD6t0OEdN3qLt_iyJ54GxG3SEoqtRDENzT3GVwPApp',
    wire: '{"e":1796127000,"d":{"b":"eIywdbWfB1JWYVEWySGzL4iDJ7IwAWU8Zd4Mvu9Hz0E","n":"-nE6fhjV1wVbC56Ntohm9w","q":{"c":"i-YuVmkVrzmsk9gGga6KXNd7W7jdUGp1KG1q0p52f-M","k":"preregistered","r":"http://localhost:51234/callback","s":"client-state","ch":"7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM","sc":["mcp/tools","mcp/read_data"]}}}',
    browserId: 'RlyNMLsQKWUi8jO_PlzHtE9t_63M6rrazhdUq4N0j2Y',
  },
  /** The remember cookie after approving {@link consentTicket} with "remember". */
  rememberedApprovals: {
    purpose: SEAL_PURPOSES.remember,
    sealed:
      'J571GmsP1KksgzEFnTZLlcyBqCJmj36XRl_SrzvN7hPexugvJdL2iqL4qJm4uZvQPPGRioYx6lxDYgjp7RQYxhKaEljnVAP7VX5Y8Apu31apMjx-h1AKsvcr4IRkxDriX5oIomtRYjrjAHlpgNARtNpJ590t5-l3txpok0s7LMb27DU-TvB2mbn05Gn6Gw',
    wire: '{"e":1796731200,"d":{"b":"eIywdbWfB1JWYVEWySGzL4iDJ7IwAWU8Zd4Mvu9Hz0E","g":{"n-Wo0ySjjo_0mr_0Tav6S0":1796731200}}}',
    browserId: 'RlyNMLsQKWUi8jO_PlzHtE9t_63M6rrazhdUq4N0j2Y',
  },
  /** The upstream `state` (the transaction) that approval started. */
  transaction: {
    purpose: SEAL_PURPOSES.transaction,
    sealed:
      '-NOQmhlUagw_TiEDWmNRXP8wsShF82vZCEjtae7HeaQTCKR_SrwwWPX84jVQFowaZL74P9to0AwavIHmIHoFMsOGyUWh1W7EPIVXfYwWPiVG8AnmmGo3sVOSRaiERBfFRxP29swPpyUl9lNAaonuDrTTptSDGilBPp2CGPd1EmsAW7ITiUFM6ekjA6rJiVQ_6f7UGsZwMPGHvdQbk6HAGLhSjSeLg7likiN1igSCMAsFYFDtf1T1679duJ5mi1feATKmvosRVcNhoCiE0t1xIDdpk3EHsLGKJmUbLL3-mxMSs2zye5FOCdEOKRj6HmzvwcDBdjOyvnJc0CGhGIPbRS6vetPtrw89tQZ8VIuk1pExdPwCAEfqCGG7pvEYSxvEhn0EKJ4A_GcKFCf6ThlXmhwZeMBFGj58u0CR0OGtJ0p9Dmc0P1lOOx0IA5nejDXG1FUO_osE5OP2OSlCpNu0pZjG-psy1_7MV359oYLmVOhjoC-Nlwe7IzSQDOitbrnrToVR_xRf55ueqPM',
    wire: '{"e":1796127000,"d":{"c":"i-YuVmkVrzmsk9gGga6KXNd7W7jdUGp1KG1q0p52f-M","k":"preregistered","r":"http://localhost:51234/callback","s":"client-state","ch":"7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM","sc":["mcp/tools","mcp/read_data"],"b":"eIywdbWfB1JWYVEWySGzL4iDJ7IwAWU8Zd4Mvu9Hz0E","iss":"https://mcp.example.com","v":"mzHsbXGa3ouL-RH5tJeFlqUHkra6cHM7hdWUnTbiJD4"}}',
    browserId: 'RlyNMLsQKWUi8jO_PlzHtE9t_63M6rrazhdUq4N0j2Y',
  },
  /** The stored record of the client code the callback of {@link transaction} minted. */
  codeRecord: {
    purpose: SEAL_PURPOSES.code,
    sealed:
      '9FkNzU3PWwiDdj-Am4-K3ApTZTEXsgSC7J6s6beQzHGRXXqN4362v_CDkguBMP8GfvrJfSjIGnhpMcloZil9S38KSDbbNyC-8CuEr8VuKchATqZbwAp_wJ_RipxN80imoR5qXjODjRlJrZTbJhWlYXy7eegRxFkHwguFJZzad6rp0PnDAcsru1RAq4gV0BYWg5BRwJBtzptOEWg9Fc12_tZLZOj1sR4JDJU0Ak1Ps0bdnheSdcq6iY5k_vR1znihFuoQYDH3PiTWz6t6ZCGcSr5GWardlkTLxrDuyYlMuEwPbj0Kzq3c04SOQiUbzcFAWrmpTTGsK0BfvYmbhAxdV63QrQUjDkGLUImGTJev-0HgWINGtBnT1-t_8WWOfq-R5Zggu-pGUAxuDfEhXeISmiVlwdgBhN6gNFpTqMbFnyicMZdBZFup4MO2aJjJUMzDBrGCL_Vx_ebbwK75WAeAKSvwIRg49rorYO09tZWJJ7oz-DjbQRHXjqLy-X4xpQ',
    wire: '{"e":1796126460,"d":{"u":"upstream-code","v":"mzHsbXGa3ouL-RH5tJeFlqUHkra6cHM7hdWUnTbiJD4","c":"i-YuVmkVrzmsk9gGga6KXNd7W7jdUGp1KG1q0p52f-M","k":"preregistered","r":"http://localhost:51234/callback","ch":"7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM","sc":["mcp/tools","mcp/read_data"],"iss":"https://mcp.example.com","res":"https://mcp.example.com/mcp"}}',
    code: '6mcftreB5cQA17PtCUAUxkRqP49YbW066aIL2CkSLdM',
  },
  /** The family the code's redemption began, naming the person (`sub`, `auth_time`). */
  refreshFamily: {
    purpose: SEAL_PURPOSES.refreshFamily,
    sealed:
      'Yv1X7sfznTlmCcPWuD8BeZaz18UzQt5C5KqzhsGHIFZoI25Lv0X27FjUBzo1Bf3Q7Z-zuyZDNlobLfV6fqSzC-uWB8ZTpEDTjuqyNqgbZXqJxD_uOrIxq944jsXQEY1M5XQRD9ppNoBnU6qmTbHQ4HcT-2IzBL2VVs2a1KyhjIf45Rgf4iU_MbuCkIrN2I9S2_EQOHCie2I1mZAycozjiZqiqnylWShqZifE_MASmy20IOcbphuSDJe3A-FbsbdkuFJvSkWDmAPxW4rf8JlnqF3myCtBD3U2oOxRAZu44DlPt9AUyY9JXHKuihtXQGe3nzgAf-giRMeOjt1rn4HoHQtc60LOYO5uyGMsQV_PZCwUzfIwCJFKKDq1OEMyuksD_mQjTfJNuwdDFAcuu-Ov9v5stZCONN82mKFbXXGdIyALn_-wOFvRqjJL7uImWuKiPLavGfyRDs-g2mO51CM8AJUqRD2tdg',
    wire: '{"e":1796731200,"d":{"f":"family#f5a817ee6d438a14da506e96f55271000a2f1a76142fcb21f158509763304adf","u":"upstream-refresh","c":"i-YuVmkVrzmsk9gGga6KXNd7W7jdUGp1KG1q0p52f-M","k":"preregistered","sc":["mcp/tools","mcp/read_data"],"iss":"https://mcp.example.com","res":"https://mcp.example.com/mcp","sub":"alice-sub","at":1796126400}}',
    refreshToken: 'XM6Jjx2quGvCJJZCgdyu1QhzWVD_ugp4VBCTJjFAkcY',
    expiresAt: 1796731200,
  },
  /** A CIMD client's ticket: its host, no `state`. */
  consentTicketCimd: {
    purpose: SEAL_PURPOSES.consent,
    sealed:
      'h8k7eYaeE8CVHV_fDsoWyDbVmyC7s2dgbniY3zE9mUi2-KHPT0Zm2UU6oeJqHGGNwph10NHLmRrP0eZxDCvFeaMilvnUbug33CWhJHXEcs1aPmLWnrL20ZDvwdc0niW0KUy1KvAcfme5VrzEjNNPdO4PYrU_YebQqQB-VaOD6MSYKloAHl4fcSPyMota2mpjtIb2SGDJ8Js4fgSZrZK0fY0vvHKJtZUZkpHfZF0pA3x1qTLKfmDIy3PMqxt8uyEEduUypGCOjNueurDdPj7Xwf8T8dRfAeuuCv8wHpSNd9ApVjKveAH4vsut1R7-Fd4oPBxCGnfJO50NA0j_TbwW6S8ogGGc57Cd04ydxev86amw_VsAgNUayz0FL3yQ5ViOuSXabYuc5BqgR4D0U4cSe63wAkJRTC9Ha1Lnghw50ngl43ra-Ul9',
    wire: '{"e":1796127000,"d":{"b":"yBp9riqn6oBEASinnZlW4we73s9GIl6xaV4x1Go6LM8","n":"iopfaQGPESPldLOjWAO6_g","q":{"c":"JnJpLsf0_aWzW_h6JODSpPepZ_fZewRargkL7tTDjcQ","k":"cimd","h":"app.example.org","r":"https://app.example.org/callback","ch":"7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM","sc":["mcp/tools"]}}}',
    browserId: '480qU0Ou7nLGOdhvVc2lf0PWMBfdfnhNlAB9cghRhmA',
  },
  /** The transaction that approving {@link consentTicketCimd} started. */
  transactionCimd: {
    purpose: SEAL_PURPOSES.transaction,
    sealed:
      '8iKwR4Z4TP0SOIyyRA6mkWR01D0n8_8KkjPj7QumRhSk7o1V2iaf5EXzgc8DSeVa5IP5pu6Uoe22uBu0ckCzlDWItqU56FtZkwzATRkr-RrdmCFj_58MOj3PimOnYLVarFht7roUBrCiXUTZOy2aH4TLJv_ZmFHk0cikwD8BIH90w33pW0JxY7DOCx4aktIzMJhoA_wbDd2o9k0O6tqiX42Eipu6ZykRzBR3xjXSx-TbaytrDQfiN4hSuj6BSYfbzolWw29CdxAxKG9FrwSp-zMn96E9iNt7FZHbaRC7bW6p9fY5vcqNjuBVx1eogMM3_I1XrR8GV86HsKwXjoBkQR_ahS3GcWGDhOSkyXrNG0ZXhHHN2UVwpEXq1FvYaRWHAuiuFMOGnaN5R9tZ1pUKIEGxzs5U7IrC4qwmQ9R_ASdHQ3gz3R3jvn-tAco6ASKO40OQUJzpJFdBp-MVWHWP66SdAepE2QgSSPJTZYPTToobdrvhlo0',
    wire: '{"e":1796127000,"d":{"c":"JnJpLsf0_aWzW_h6JODSpPepZ_fZewRargkL7tTDjcQ","k":"cimd","h":"app.example.org","r":"https://app.example.org/callback","ch":"7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM","sc":["mcp/tools"],"b":"yBp9riqn6oBEASinnZlW4we73s9GIl6xaV4x1Go6LM8","iss":"https://mcp.example.com","v":"ds1e6QyJZfaUd-unA3CQTTdrG0lYbvaX0p7iE8ZUuG0"}}',
    browserId: '480qU0Ou7nLGOdhvVc2lf0PWMBfdfnhNlAB9cghRhmA',
  },
  /** A family whose upstream access token named nobody (not a JWT). */
  refreshFamilyAnonymous: {
    purpose: SEAL_PURPOSES.refreshFamily,
    sealed:
      'cNZbJaY8JDBNg7XjdsdB0jIgwu_SbYoP3Kv8ZjhlPLuwGq1JyjA-v_kjIHHR6BDEv3e8x6hG3Kv-gaXBHx9y6NftQc-Lm7zXj3ZJcy8yloxTf-kHttfFDlNyyaUNVALSgX9UNQE7_NRODwD3xBRiQRXteoOzxROf-V8q50mN66E4Etp_0uEn4CwGZm9f-8quEDMgNbq2nUxOwVKHPsBCFUyEnf13gRK3-DvTT5_uWFcHwCU-PgrGel_KW0NnSMPU7FEaz7Tb3AHjCpaWal-uao230bFCp8Sc75vheuvsN4SjB9Cp4TRQtGehOyKJnTNe9SxJkzPdD0_ita0Z3cDsRG-yuqu3Olms-ewVMm3xiAU9uHPqBBVHtU2Dk7LtpW215SufjHlxGjl61wqq4g',
    wire: '{"e":1796731200,"d":{"f":"family#fb5afb8064034c11b66ff9fe3a019e45c54a11075e16df7440784bf232e1c4a3","u":"upstream-refresh-2","c":"JnJpLsf0_aWzW_h6JODSpPepZ_fZewRargkL7tTDjcQ","k":"cimd","sc":["mcp/tools"],"iss":"https://mcp.example.com","res":"https://mcp.example.com/mcp"}}',
    refreshToken: 'ac19sgMBdff5vOpfuA8-6mjHYCd7YBPE7yEL_NBMCHA',
    expiresAt: 1796731200,
  },
  /** A DCR client id with a name and two redirect URIs. */
  registration: {
    purpose: SEAL_PURPOSES.dcrClient,
    sealed:
      'gHum6wq_yTHYKX8TgH6IdUrNHz2gGOF_qJ8fOC1JS5dLsN3zEKphau8PNOlP4ELW1CXmUs432Yc143oTPh_0c_J7ejYemS2cP0HK2X8szwHBVK2AkzELwCptLinYJzLtkbSsqwvIyG9bu-TNCDBlYmlxB75arGY7moVaggn6QNdvLa7Z-Xzm8-zL_Wu3uJGWyXY4cNPsk6wlSvfpupJWfq4CdOTg_EmTyJ4SaZVtrxF5sHJl15qPWLM61H51Mw6u-djNOAjCplbFdAuvPgjhS0k',
    wire: '{"r":["http://localhost:51234/callback","https://app.example.net/cb"],"n":"Registered <App>","s":"mcp/tools mcp/read_data","g":["authorization_code","refresh_token"],"i":1796126400}',
    clientId:
      'dcr_gHum6wq_yTHYKX8TgH6IdUrNHz2gGOF_qJ8fOC1JS5dLsN3zEKphau8PNOlP4ELW1CXmUs432Yc143oTPh_0c_J7ejYemS2cP0HK2X8szwHBVK2AkzELwCptLinYJzLtkbSsqwvIyG9bu-TNCDBlYmlxB75arGY7moVaggn6QNdvLa7Z-Xzm8-zL_Wu3uJGWyXY4cNPsk6wlSvfpupJWfq4CdOTg_EmTyJ4SaZVtrxF5sHJl15qPWLM61H51Mw6u-djNOAjCplbFdAuvPgjhS0k',
  },
  /** A DCR client id without a name. */
  registrationUnnamed: {
    purpose: SEAL_PURPOSES.dcrClient,
    sealed:
      'PXiddHCW4_7zYKQgvgIVfInh4svkSulzDP1hjBmNueIjAbZEKKMKbJlk8PFdvyg6lIPoTa_yyc9KuaFZDvpTvBOtP1wr9qxchjPH6cfavx3phMIm7jJWmu8L2YnWt_ZMy_ElrEsqtSUGNv-1TA0i9kmkjCwegFfm',
    wire: '{"r":["http://127.0.0.1:8123/cb"],"s":"mcp/tools","g":["authorization_code"],"i":1796126401}',
    clientId:
      'dcr_PXiddHCW4_7zYKQgvgIVfInh4svkSulzDP1hjBmNueIjAbZEKKMKbJlk8PFdvyg6lIPoTa_yyc9KuaFZDvpTvBOtP1wr9qxchjPH6cfavx3phMIm7jJWmu8L2YnWt_ZMy_ElrEsqtSUGNv-1TA0i9kmkjCwegFfm',
  },
  /** The approval page's upstream `state`. */
  approvalSignIn: {
    purpose: SEAL_PURPOSES.approvalSignIn,
    sealed:
      '9uYGyhqATVxZPQPVC6TE5aYjDESRBi0-lX51A_PXJS6jEH29NdCuBdaJ2bLgfZ-1utc_DmfokvZYYOrnqdgb5pqTXsXlTTcD9sqKn2aN9GgCpkUp48h0NZLYJ74sbGKVe8sf9FwuT0eqGXuRQyr65zi8oJkYOoWSVO4XRkOQXEskcV9UKo0LcbHj_JaAdoYMrfzoGiyHGQufpscV9jO8-irJoG9-HEUvYPRytDVkSZoJ9BbvXX5e4Qq6RljORa66A1-YQzundBkdWfDK70Zu3V0WnH3pDo4kF2Titd0Nq8f7I_TzIbU0FFq1Y__05HtP-DjBngXNhmmiKG9FR-ZJpQh3Su7CGZ7E0kpOL4cuQrCfT8HYbXR22rL6XvIVTJUPsdQzZOq7CqZ_08YoXn8awS1yDsk99s_5aK7_IYB6rK-CK7XVnuwXvIt9OT7M6FF3RdnxRFj6dq4TtIZbjB_550pLhRfdUr_ln_wRME6HRONegMBVULrJHR_X8Z-wZLOew0x3uPa8kU68HwNktpQMYl-XQWaWn1pWypkmeuGD11KGZJonSRMQdxddLoP1wVuhsDg66Ew2QumqzkF-6b-32AUg2orOgdlQ0o_-CBAHQFnYMxz-VKZIuJo9F_cMMvkaxBg4BXsElVhYa7zqSK7YTSpDEjhEJfo9Bqx_2YFKfz4s_2agHQD7ZioP4Y2Z1y9fJuE6w-W_aAsSbypGOM6OEivsVFfAVtguY_qxKk_kel6_A2OB5eUXz6C28HCQhQ36HcQQPcATdEmqpbE2JOvyHS1rz5fegNZ6IaFPDlsZte_KiJw0KmcH1R_gHcAmZOXK9i133d4CyO8eQ4VbcKk8m1FcrK0q7pLNDDnAjKC_Qp65Av2KJmwLpmxOEwAqCylewUAD6FXO6jmFcJ8BN5tgcn_kfwhOG0SsQOY-jHvAT57ZdL0TJzmJv8b9ixjE-SxNIwVmdV6BU-QAM0fSX75EH2CXZaR-JAmfCdrBT6DoO2q9KRLwa-fURXghYGayY1jIPHxsk3W0PnMnuO2RUT8k',
    wire: '{"e":1796127000,"d":{"b":"unY2fOVW6zF-mvibjj86U-iJ5NslvKmuttdX4AxibWA","v":"zQXT_d2ubgFX_QqkNtztWzQkDI-61W_SCok6DNaVT1E","t":"U7J7VHDim8CKTXcplWYqooYyFYt4i7vBzX0M6FfqItjVQBIttUNf9dq1O0hiM-oqfmKBarYWZ2xR0iZd4YYasFhBb_OnO3OE9z66wKvnD2EW1y5jItnx4LKIUU_SX7-bLBWGxSvxSqk8sHyRpbzqCr18IebwF-Gkrf2OJa_MNbqg4F92txrnsDbKRwSqJORUzkCivMVdYV1idE6SqBBg0XvgBGNUZ0pcEjc5flif958EXY6dKGLgAw5hauwbkLQ9h7LXVlIh0sFanz1Bu_1BT42YzW79e9pveRDJERbuOrQ41UsIqh4YtKOudZO1eDa9XETfotcll-BNEgK4JJR1LB1vHvhB145CWiPTZxIbfSo1xD98ii3-PiDtOC6_Hoiz2zilrrAL23OVomFaHL1NHerdb3_qdiNBrX-repgsVKcDw4CrSI5O_nT3m6KwRb_Xv-i8yZ38735jIxkxi4mWBmuz-_SbsoHsSw7rCJ4j2bmfZncyahssNrtEnBnmiVRLrfvIu6MHj6Xyi2sxWMeDYF-F0fMsFN3jwjkHU0iZ5sQ9Kj8Wi2OGC8RWFpy0KyrS8pO67P-aOeqMmcMFmClI9hGb8ueL3LytqxtNbDTp2dGqtdxcsg"}}',
    browserId: 'UxyuTNJx28yhT9KKveYEbLu2N33AmBVoJU15IcPdB-0',
    ticket:
      'U7J7VHDim8CKTXcplWYqooYyFYt4i7vBzX0M6FfqItjVQBIttUNf9dq1O0hiM-oqfmKBarYWZ2xR0iZd4YYasFhBb_OnO3OE9z66wKvnD2EW1y5jItnx4LKIUU_SX7-bLBWGxSvxSqk8sHyRpbzqCr18IebwF-Gkrf2OJa_MNbqg4F92txrnsDbKRwSqJORUzkCivMVdYV1idE6SqBBg0XvgBGNUZ0pcEjc5flif958EXY6dKGLgAw5hauwbkLQ9h7LXVlIh0sFanz1Bu_1BT42YzW79e9pveRDJERbuOrQ41UsIqh4YtKOudZO1eDa9XETfotcll-BNEgK4JJR1LB1vHvhB145CWiPTZxIbfSo1xD98ii3-PiDtOC6_Hoiz2zilrrAL23OVomFaHL1NHerdb3_qdiNBrX-repgsVKcDw4CrSI5O_nT3m6KwRb_Xv-i8yZ38735jIxkxi4mWBmuz-_SbsoHsSw7rCJ4j2bmfZncyahssNrtEnBnmiVRLrfvIu6MHj6Xyi2sxWMeDYF-F0fMsFN3jwjkHU0iZ5sQ9Kj8Wi2OGC8RWFpy0KyrS8pO67P-aOeqMmcMFmClI9hGb8ueL3LytqxtNbDTp2dGqtdxcsg',
  },
  /** The approval page's approver cookie, after that sign-in. */
  approver: {
    purpose: SEAL_PURPOSES.approver,
    sealed:
      'N3rR_ZLBjeNxjQ5T_6rAZt_Vl8tvjGhwb2-TXJx1qToQgoCiojC8glgreNH2PeznjyduCneyUBMxpztc1oUGUF4yMyVxPgHVpE3C9hbZWe4hAF7g4YdkKsDApaq0gc_hEK_dxe02GB5uWav6pNHuhhVMPhF0bfcAiZME--ezSH0t_uIZVK1cDoTNO0vcvaWUQgikHrRJ-eqpNMxzFMM2',
    wire: '{"e":1796126700,"d":{"b":"unY2fOVW6zF-mvibjj86U-iJ5NslvKmuttdX4AxibWA","sub":"alice-sub","groups":["admin","ops"],"at":1796126400}}',
    browserId: 'UxyuTNJx28yhT9KKveYEbLu2N33AmBVoJU15IcPdB-0',
  },
  /** The approval page's form token, for the page shown after that sign-in. */
  approvalForm: {
    purpose: SEAL_PURPOSES.approvalForm,
    sealed:
      '-M8GV6FJDE4-pyVcWnsmOdOkzulTfsEu1fdz89Eafrmv_r4oMYFO6tOmBs4QhoTZ3H-Ho2wGw1srE00ShziFvswOORChw6E2xHhrvDzZbLtTBsNiT0L8yHM3ogmLIGG3u8ODimqmOEIw-v4I4KvazP4j5zGtDJohUPj5UcB3_D7tMtZkgKipP_rRfG2tqJM_Q-Vn-zXkl_OdIljv6GrF26GxvT47Y1Q',
    wire: '{"e":1796126700,"d":{"b":"unY2fOVW6zF-mvibjj86U-iJ5NslvKmuttdX4AxibWA","approvalId":"AAAAAAAAAAAAAAAAAAAAAA","n":"ADPcxbKL_mNNhj6JSPwMDg"}}',
    browserId: 'UxyuTNJx28yhT9KKveYEbLu2N33AmBVoJU15IcPdB-0',
  },
} as const;
