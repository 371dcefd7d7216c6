"""Vietnamese number format: Django's vi locale leaves digits ungrouped; the ministry writes 81.415."""

NUMBER_GROUPING = 3
