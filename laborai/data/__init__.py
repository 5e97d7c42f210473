"""Canonical marketplace tables: schema, readers with validation, and the simulator."""

from laborai.data.readers import (
    COUNTRY_OVERRIDES,
    DEFAULT_DATE_RANGE,
    ColumnMapping,
    ReadResult,
    ValueAssumptions,
    available_mappings,
    country_code,
    load_mapping,
    parse_money,
    read_contracts,
    read_job_posts,
)
from laborai.data.schema import CONTRACT_COLUMNS, JOB_POST_COLUMNS, ColumnSpec, schema_table

__all__ = [
    "CONTRACT_COLUMNS",
    "COUNTRY_OVERRIDES",
    "ColumnMapping",
    "ValueAssumptions",
    "available_mappings",
    "country_code",
    "load_mapping",
    "parse_money",
    "DEFAULT_DATE_RANGE",
    "JOB_POST_COLUMNS",
    "ColumnSpec",
    "ReadResult",
    "read_contracts",
    "read_job_posts",
    "schema_table",
]

from laborai.data.simulate import (
    OUTCOMES,
    Marketplace,
    default_effects,
    design_effects,
    read_marketplace,
    simulate_marketplace,
)

__all__ += ["OUTCOMES", "Marketplace", "default_effects", "design_effects", "read_marketplace",
            "simulate_marketplace"]

from laborai.data.freelancers import FreelancerMarket, simulate_freelancers

__all__ += ["FreelancerMarket", "simulate_freelancers"]
