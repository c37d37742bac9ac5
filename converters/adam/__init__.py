"""SDTM -> ADaM (ADaMIG 1.3): ADSL, ADRS and ADTTE, derived from SDTM datasets only."""
