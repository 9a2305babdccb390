"""What an I-ALiRT record holds (``ialirt-api.md`` §5, §8): names, shapes, units, cadences and chunk sizes.

Pure constants shared by the client (:mod:`imap_explorer.ialirt`), the emulator (:mod:`imap_explorer.server.ialirt`)
and the synthetic stream (:mod:`imap_explorer.synthetic.ialirt`).
"""

from __future__ import annotations

__all__ = [
    "ARCHIVE_EPOCHS",
    "CHUNK_HOURS",
    "CODICE_HI_ENERGY",
    "CODICE_HI_POLAR",
    "FIELDS",
    "HIT_RESTRICTED",
    "INSTRUMENTS",
    "PUBLIC_CUTOFF",
    "SCIENCE",
    "SIZE_LIMIT",
    "SWE_ENERGY",
    "UNITS",
    "VECTOR_SUFFIXES",
]

#: The six science partitions, in the order the server concatenates them (§4.4).
SCIENCE = ("hit", "mag", "codice_lo", "codice_hi", "swapi", "swe")
#: Every partition a client may name (``<instrument>_hk`` and ``spacecraft_status`` are keyed-only).
INSTRUMENTS = (*SCIENCE, "spacecraft", "spice", "ancillary", "mag_hk", "spacecraft_status")
#: Keyless queries starting before this (UTC) are refused (§4.3).
PUBLIC_CUTOFF = "2026-02-01T00:00:00"
#: Stored item bytes one DynamoDB query reads before the server answers 400 (§4.5).
SIZE_LIMIT = 1_048_576

#: HIT fields only a caller with scope read/full receives (§4.4).
HIT_RESTRICTED = ("hit_e_a_side_low_en", "hit_e_b_side_low_en", "hit_e_a_side_high_en", "hit_e_b_side_high_en",
                  "hit_h_a_side_high_en", "hit_h_b_side_high_en")

#: Fields of each partition, in the server's key order: name -> number of elements (0 = scalar).
FIELDS: dict[str, dict[str, int | tuple[int, ...]]] = {
    "mag": {"mag_B_GSE": 3, "mag_B_GSM": 3, "mag_B_RTN": 3, "mag_B_magnitude": 0, "mag_phi_B_GSE": 0,
            "mag_theta_B_GSE": 0, "mag_phi_B_GSM": 0, "mag_theta_B_GSM": 0},
    "swapi": {"swapi_pseudo_proton_speed": 0, "swapi_pseudo_proton_density": 0,
              "swapi_pseudo_proton_temperature": 0},
    "swe": {"swe_normalized_counts": 8, "swe_counterstreaming_electrons": 0},
    "hit": {"hit_e_a_side_low_en": 0, "hit_e_a_side_med_en": 0, "hit_e_a_side_high_en": 0,
            "hit_e_b_side_low_en": 0, "hit_e_b_side_med_en": 0, "hit_e_b_side_high_en": 0,
            "hit_h_omni_low_en": 0, "hit_h_omni_med_en": 0, "hit_h_a_side_high_en": 0, "hit_h_b_side_high_en": 0,
            "hit_he_omni_low_en": 0, "hit_he_omni_high_en": 0},
    "codice_lo": {"codice_lo_c_over_o_abundance": 0, "codice_lo_mg_over_o_abundance": 0,
                  "codice_lo_fe_over_o_abundance": 0, "codice_lo_c_plus_6_over_c_plus_5": 0,
                  "codice_lo_o_plus_7_over_o_plus_6": 0, "codice_lo_fe_low_over_fe_high": 0},
    "codice_hi": {"codice_hi_h": (15, 4, 4)},
    "spacecraft": {"sc_position_GSE": 3, "sc_position_GSM": 3, "sc_velocity_GSE": 3, "sc_velocity_GSM": 3},
}

#: SWE energies (eV) of the 8 normalised counts (§5.4).
SWE_ENERGY = (100.4, 140.0, 194.0, 270.0, 376.0, 523.0, 727.0, 1011.0)
#: CoDICE-Hi energy centres (MeV) and polar angles (deg) (§5.7).
CODICE_HI_ENERGY = (0.02378, 0.03364, 0.04757, 0.06727, 0.09514, 0.1345, 0.1903, 0.2691, 0.3805, 0.5382, 0.7611,
                    1.0763, 1.5222, 2.1527, 3.0444)
CODICE_HI_POLAR = (132.8, 65.7, 47.1, 114.3)

#: Component suffixes of the 3-vectors by frame.
VECTOR_SUFFIXES = {"RTN": ("r", "t", "n"), "GSE": ("x", "y", "z"), "GSM": ("x", "y", "z")}

#: Units of every field (the archive CDF's UNITS).
UNITS = {
    "mag_B_GSE": "nT", "mag_B_GSM": "nT", "mag_B_RTN": "nT", "mag_B_magnitude": "nT",
    "mag_phi_B_GSE": "degrees", "mag_theta_B_GSE": "degrees", "mag_phi_B_GSM": "degrees",
    "mag_theta_B_GSM": "degrees",
    "swapi_pseudo_proton_speed": "km/sec", "swapi_pseudo_proton_density": "1/cm^3",
    "swapi_pseudo_proton_temperature": "Kelvin",
    "swe_normalized_counts": "normalized counts", "swe_counterstreaming_electrons": "1=counterstreaming",
    **{name: "counts" for name in FIELDS["hit"]},
    **{name: " " for name in FIELDS["codice_lo"]},
    "codice_hi_h": "counts / cm2-sr-s-MeV",
    "sc_position_GSE": "km", "sc_position_GSM": "km", "sc_velocity_GSE": "km/s", "sc_velocity_GSM": "km/s",
}

#: Window (hours) a request asks for at first, per partition: about 3/4 of the reference's estimate of the hours in
#: 1 MB (§4.5: MAG 4 h, CoDICE-Hi 8 h, SWAPI 15 h, SWE 39 h, HIT 45 h, spacecraft 60 h, CoDICE-Lo 200 h). A window
#: the server still refuses is halved, and so are that partition's later windows.
CHUNK_HOURS = {"mag": 3, "codice_hi": 6, "swapi": 12, "swe": 24, "hit": 24, "spacecraft": 48, "codice_lo": 96,
               "mag_hk": 1}
#: Default window for partitions not in :data:`CHUNK_HOURS`.
DEFAULT_CHUNK_HOURS = 24

#: Record dimension of each partition in the archive CDF (§8.2).
ARCHIVE_EPOCHS = {"mag": "mag_epoch", "swapi": "swapi_epoch", "swe": "swe_epoch", "hit": "hit_epoch",
                  "codice_lo": "codice_lo_epoch", "codice_hi": "codice_hi_epoch", "spacecraft": "ephemeris_epoch"}


def component_names(field: str, n: int) -> list[str]:
    """Column names of the elements of a vector field.

    Examples
    --------
    >>> component_names("mag_B_RTN", 3), component_names("swe_normalized_counts", 8)[:2]
    (['mag_B_RTN_r', 'mag_B_RTN_t', 'mag_B_RTN_n'], ['swe_normalized_counts_100eV', 'swe_normalized_counts_140eV'])
    """
    if field == "swe_normalized_counts":
        return [f"{field}_{e:.0f}eV" for e in SWE_ENERGY]
    frame = field.rsplit("_", 1)[-1]
    return [f"{field}_{s}" for s in VECTOR_SUFFIXES.get(frame, tuple(str(i) for i in range(n)))]
