"""Source -> SDTM (SDTMIG 3.4): one module per domain, shared derivations in derive.py."""
