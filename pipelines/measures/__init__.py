"""Poverty measures (issue #4): administrative and survey incidence, FGT P0-P2, Gini, line
sensitivity, subgroup profile, Alkire–Foster over 两不愁三保障 + water. See README.md here."""
