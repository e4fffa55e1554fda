// The BAL vocabulary of the MSSanté rules (DESIGN.md "BAL types", R1–R6): personal boxes PER (with
// RPPS), MED (without RPPS, operator-internal), INT (waiting for an RPPS); ORG organisational; APP
// applicative. Policy decides with these; the store records them.
export type BoxType = 'PER' | 'MED' | 'INT' | 'ORG' | 'APP';
export type BoxStatus = 'pending' | 'active' | 'suspended';
