"""ISTP variable and global attribute tables of the synthetic MAG and SWE products.

The values copy the IMAP SDC products (``products.md`` §1.3, §1.4, §3, §4): the current processing code
(imap_processing 1.0.40) for the normal files, and the flight quirks for the legacy MAG layout. Every
function returns a fresh ``dict`` so callers may edit it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EPOCH_ATTRS",
    "GROUND_SOFTWARE_VERSION",
    "global_attrs",
    "label_attrs",
]

#: ``ground_software_version`` written into synthetic files (a fixed value keeps files byte-identical).
GROUND_SOFTWARE_VERSION = "1.0.40+synthetic"

INT64_MIN = np.int64(-9223372036854775808)
INT64_MAX = np.int64(9223372036854775807)
FILL_FLOAT = -1.0e31

_MISSION = {
    "Acknowledgement": "Please acknowledge the IMAP Mission Principal Investigator, Prof. David J. McComas of "
    "Princeton University.\n",
    "Discipline": "Solar Physics>Heliospheric Physics",
    "File_naming_convention": "source_descriptor_datatype_yyyyMMdd_vMMM.mmmm",
    "HTTP_LINK": "https://imap.princeton.edu/",
    "LINK_TITLE": "IMAP The Interstellar Mapping and Acceleration Probe",
    "Mission_group": "IMAP",
    "PI_affiliation": "Princeton University",
    "PI_name": "Prof. David J. McComas",
    "Project": "STP>Solar Terrestrial Probes",
    "Rules_of_use": "All IMAP data products are publicly released and citable for use in publications. Please "
    "consult the IMAP team publications and personnel for further details on production, processing, and usage of "
    "these data.\n",
    "Source_name": "IMAP>Interstellar Mapping and Acceleration Probe",
}

_INSTRUMENT = {
    "mag": {
        "Descriptor": "MAG>Magnetometer",
        "Instrument_type": "Magnetic Fields (space)",
        "TEXT": "The IMAP magnetometer MAG consists of two vector magnetic field sensors which measure the magnetic "
        "field in the vicinity of the spacecraft. MAG will contribute to our understanding of the acceleration and "
        "transport of charged particles in the heliosphere, the dynamics of interplanetary shocks, and provide real "
        "time space weather measurements via the I-AliRT service. MAG design, assembly, operations, and calibration "
        "are led by Imperial College London. See https://imap.princeton.edu/spacecraft/instruments/magnetometer-mag "
        "for more details.\n",
    },
    "swe": {
        "Descriptor": "SWE>Solar Wind Electron",
        "Instrument_type": "Particles (space)",
        "TEXT": "The IMAP Solar Wind Electron (SWE) instrument measures the solar wind electrons in the heliosphere. "
        "SWE will contribute to our understanding of the acceleration and transport of charged particles in the "
        "heliosphere. SWE design and assembly is led by the Princeton Plasma Physics Laboratory. See "
        "https://imap.princeton.edu/instruments/swe for more details.\n",
    },
}

_FRAME_NAMES = {
    "srf": ("SRF", "Spacecraft Reference Frame"),
    "dsrf": ("DSRF", "Despun Spacecraft Reference Frame"),
    "gse": ("GSE", "Geocentric Solar Ecliptic Reference Frame"),
    "gsm": ("GSM", "Geocentric Solar Magnetospheric Reference Frame"),
    "rtn": ("RTN", "Radial-Tangential-Normal Reference Frame"),
}

_LEVEL_WORDS = {"l1a": "1A", "l1b": "1B", "l1c": "1C", "l1d": "1D", "l2": "2", "l3": "3"}


def _product_block(instrument: str, data_level: str, descriptor: str) -> dict[str, str]:
    level = _LEVEL_WORDS[data_level]
    if instrument == "mag":
        mode, _, what = descriptor.partition("-")
        rate = "normal" if mode == "norm" else "burst"
        if what in _FRAME_NAMES:
            short, long = _FRAME_NAMES[what]
            return {
                "Data_type": f"L{level}_{descriptor}>Level {level} {rate} rate data in {short}",
                "Logical_source_description": f"IMAP Mission MAG {rate.capitalize()} Rate Instrument Level-{level} "
                f"Data in {long}",
            }
        sensor = "MAGo" if what == "mago" else "MAGi"
        return {
            "Data_type": f"L{level}_{descriptor}>Level {level} {sensor} {rate} rate",
            "Logical_source_description": f"IMAP Mission {sensor} {rate.capitalize()} Rate Instrument Level-{level} "
            "Data.",
        }
    return {
        "Data_type": f"L{level}_{descriptor.upper()}>Level-{level} Science data",
        "Logical_source_description": f"IMAP SWE Instrument Level-{level} Science Data",
    }


def global_attrs(instrument: str, data_level: str, descriptor: str, start_date: str, version: str,
                 parents: list[str], *, generation_date: str | None = None) -> dict[str, object]:
    """Return the global attributes of one synthetic product file (``products.md`` §1.4).

    Parameters
    ----------
    instrument, data_level, descriptor : str
        File name tokens, e.g. ``"mag"``, ``"l2"``, ``"norm-gse"``.
    start_date : str
        The processing day ``YYYYMMDD`` (the date in the file name).
    version : str
        The file version with its ``v`` (``"v001.0002"`` or legacy ``"v003"``).
    parents : list of str
        Input file names.
    generation_date : str, optional
        ``YYYYMMDD``; defaults to the day after ``start_date`` so files are reproducible.
    """
    import datetime as dt

    if generation_date is None:
        day = dt.datetime.strptime(start_date, "%Y%m%d").date() + dt.timedelta(days=1)
        generation_date = day.strftime("%Y%m%d")
    logical_source = f"imap_{instrument}_{data_level}_{descriptor}"
    attrs: dict[str, object] = dict(_MISSION)
    attrs.update(_INSTRUMENT[instrument])
    attrs.update(_product_block(instrument, data_level, descriptor))
    attrs["Logical_source"] = logical_source
    attrs["Data_version"] = version.removeprefix("v")
    attrs["Start_date"] = start_date
    attrs["Parents"] = list(parents)
    attrs["Logical_file_id"] = f"{logical_source}_{start_date}_{version}"
    attrs["ground_software_version"] = GROUND_SOFTWARE_VERSION
    attrs["Generation_date"] = generation_date
    attrs["Generated_by"] = "IMAP Science Data Center"
    if "." not in version:
        attrs["File_naming_convention"] = "source_descriptor_datatype_yyyyMMdd_vNNN"
    return dict(sorted(attrs.items(), key=lambda kv: _GLOBAL_ORDER.get(kv[0], 99)))


_GLOBAL_ORDER = {name: i for i, name in enumerate([
    "Acknowledgement", "Data_type", "Data_version", "Descriptor", "Discipline", "File_naming_convention", "HTTP_LINK",
    "Instrument_type", "LINK_TITLE", "Logical_file_id", "Logical_source", "Logical_source_description",
    "Mission_group", "PI_affiliation", "PI_name", "Project", "Rules_of_use", "Source_name", "TEXT", "Start_date",
    "Parents", "ground_software_version", "Generation_date", "Generated_by",
])}

#: ``epoch`` attributes of current SDC files (``imap_constant_attrs.yaml``, ``products.md`` §1.3).
EPOCH_ATTRS = {
    "CATDESC": "Time, number of nanoseconds since J2000 with leap seconds included",
    "FIELDNAM": "epoch",
    "LABLAXIS": "epoch",
    "FILLVAL": INT64_MIN,
    "FORMAT": " ",
    "UNITS": "ns",
    "VALIDMIN": np.int64(315576066184000000),
    "VALIDMAX": np.int64(3155716869184000000),
    "VAR_TYPE": "support_data",
    "SCALETYP": "linear",
    "MONOTON": "INCREASE",
    "TIME_BASE": "J2000",
    "TIME_SCALE": "Terrestrial Time",
    "REFERENCE_POSITION": "Rotating Earth Geoid",
    "RESOLUTION": " ",
    "DICT_KEY": "SPASE>Support>SupportQuantity:Temporal",
}


def epoch_attrs() -> dict[str, object]:
    """Return a copy of :data:`EPOCH_ATTRS`."""
    return dict(EPOCH_ATTRS)


def label_attrs(catdesc: str, fieldnam: str, width: int) -> dict[str, object]:
    """Attributes of a CDF_CHAR label variable (``VAR_TYPE metadata``)."""
    return {"CATDESC": catdesc, "FIELDNAM": fieldnam, "FORMAT": f"A{width}", "VAR_TYPE": "metadata"}


# --------------------------------------------------------------------------------------------- MAG
def mag_direction_attrs() -> dict[str, object]:
    """``direction`` coordinate of MAG files."""
    return {
        "CATDESC": "Magnetic field vector",
        "DICT_KEY": "SPASE>Support>SupportQuantity:Orientation",
        "DISPLAY_TYPE": "time_series",
        "FIELDNAM": "\\[xyz\\] magnetic field vector",
        "FILLVAL": INT64_MIN,
        "FORMAT": "I3",
        "LABLAXIS": "Magnetic field vector",
        "UNITS": "counts",
        "VALIDMAX": INT64_MAX,
        "VALIDMIN": INT64_MIN,
        "VAR_TYPE": "support_data",
    }


def mag_l2_vector_attrs(frame: str) -> dict[str, object]:
    """``b_<frame>`` of a 1.0.40 MAG L1D/L2 file (``products.md`` §3.6)."""
    short, _ = _FRAME_NAMES[frame]
    return {
        "CATDESC": f"Magnetic field in {short} coordinates",
        "CDF_DATA_TYPE": "CDF_FLOAT",
        "DEPEND_0": "epoch",
        "DEPEND_1": "direction",
        "DICT_KEY": f"SPASE>Field>FieldQuantity:Magnetic,Qualifier:Vector,CoordinateSystemName:{short},"
        "CoordinateRepresentation:Cartesian",
        "DISPLAY_TYPE": "time_series",
        "FIELDNAM": f"Magnetic Field {short}",
        "FILLVAL": np.float32(FILL_FLOAT),
        "FORMAT": "F13.5",
        "LABL_PTR_1": "direction_label",
        "SCALEMAX": np.float32(100.0),
        "SCALEMIN": np.float32(-100.0),
        "UNITS": "nT",
        "VALIDMAX": np.float32(1.0e5),
        "VALIDMIN": np.float32(-1.0e5),
        "VAR_TYPE": "data",
    }


def mag_l2_scalar_attrs() -> dict[str, dict[str, object]]:
    """``magnitude``, ``quality_flags``, ``quality_bitmask`` and ``range`` of a 1.0.40 MAG L2 file.

    The texts are those imap-processing 1.0.40 writes (``tests/sdc_writer``); ``quality_bitmask`` follows
    ``products.md`` §3.6, as that file has none.
    """
    common = {"DEPEND_0": "epoch", "DISPLAY_TYPE": "time_series"}
    return {
        "magnitude": {
            **common,
            "CATDESC": "Magnitude of the magnetic field",
            "CDF_DATA_TYPE": "CDF_FLOAT",
            "DICT_KEY": "SPASE>Field>FieldQuantity:Magnetic,Qualifier:Scalar",
            "FIELDNAM": "Magnetic Field Magnitude",
            "FILLVAL": np.float32(FILL_FLOAT),
            "FORMAT": "F12.5",
            "LABLAXIS": "|B|",
            "UNITS": "nT",
            "VALIDMAX": np.float32(1.0e5),
            "VALIDMIN": np.float32(0.0),
            "VAR_TYPE": "data",
        },
        "quality_flags": {
            **common,
            "CATDESC": "Data quality flag. 0: Good data, 1: Bad data.",
            "DICT_KEY": "SPASE>Support>SupportQuantity:DataQuality",
            "FIELDNAM": "Quality Flag",
            "FILLVAL": np.uint8(255),
            "FORMAT": "I1",
            "LABLAXIS": "QF",
            "UNITS": "0=good",
            "VALIDMAX": np.uint8(1),
            "VALIDMIN": np.uint8(0),
            "VAR_NOTES": "The quality flag indicates the overall quality of the data at each timestamp.\n"
            "More detail on the data quality can be found in the quality bitmask.\n- 0: Good data\n"
            "- 1: Bad quality data not suitable for science\n",
            "VAR_TYPE": "data",
        },
        "quality_bitmask": {
            **common,
            "CATDESC": "Eight-bit data quality bitmask",
            "CDF_DATA_TYPE": "CDF_UINT2",
            "DICT_KEY": "SPASE>Support>SupportQuantity:DataQuality",
            "FIELDNAM": "Data Quality Bitmask",
            "FILLVAL": np.uint16(65535),
            "FORMAT": "I3",
            "LABLAXIS": "QF",
            "UNITS": " ",
            "VALIDMAX": np.uint16(255),
            "VALIDMIN": np.uint16(0),
            "VAR_NOTES": "Bit 0: secondary sensor used. Bit 1: thruster signals removed. Bit 2: spacecraft "
            "interference. Bit 3: instrument signals removed. Bits 4-7: reserved.\n",
            "VAR_TYPE": "support_data",
        },
        "range": {
            **common,
            "CATDESC": "Range of the magnetometer sensor",
            "CDF_DATA_TYPE": "CDF_UINT1",
            "DICT_KEY": "SPASE>Support>SupportQuantity:InstrumentMode",
            "FIELDNAM": "Sensor Range",
            "FILLVAL": np.uint8(255),
            "FORMAT": "I1",
            "LABLAXIS": "Range",
            "UNITS": " ",
            "VALIDMAX": np.uint8(3),
            "VALIDMIN": np.uint8(0),
            "VAR_TYPE": "support_data",
        },
    }


def mag_legacy_attrs(frame: str) -> dict[str, dict[str, object]]:
    """Variable attributes of the flight-era MAG L2 layout (imap_processing <= 1.0.25, ``products.md`` §3.6)."""
    short, long = _FRAME_NAMES[frame]
    common = {"DEPEND_0": "epoch", "DISPLAY_TYPE": "time_series"}
    big = np.float32(9.223372e18)
    return {
        f"b_{frame}": {
            **common,
            "FILLVAL": big,
            "FORMAT": "F12.5",
            "VALIDMIN": -big,
            "VALIDMAX": big,
            "VAR_TYPE": "data",
            "UNITS": " ",
            "CATDESC": f"Magnetic field vectors with x y z varying by time in {long}",
            "DEPEND_1": "direction",
            "FIELDNAM": "Magnetic Field Vector",
            "LABL_PTR_1": "direction_label",
            "CDF_DATA_TYPE": "CDF_FLOAT",
            "DICT_KEY": f"SPASE>Field>FieldQuantity:Magnetic,Qualifier:Vector,CoordinateSystemName:{short},"
            "CoordinateRepresentation:Cartesian",
        },
        "quality_flags": {
            **common,
            "FILLVAL": np.int64(255),
            "FORMAT": "I3",
            "VALIDMIN": np.int64(0),
            "VALIDMAX": np.int64(255),
            "VAR_TYPE": "support_data",
            "UNITS": " ",
            "CATDESC": "Eight-bit Data quality bitmask",
            "FIELDNAM": "Quality Flag",
            "DICT_KEY": "SPASE>Support>SupportQuantity:DataQuality",
            "LABLAXIS": "QF",
        },
        "quality_bitmask": {
            **common,
            "FILLVAL": np.int64(255),
            "FORMAT": "I1",
            "VALIDMIN": np.int64(0),
            "VALIDMAX": np.int64(1),
            "VAR_TYPE": "support_data",
            "UNITS": " ",
            "CATDESC": "Data quality flag",
            "FIELDNAM": "Quality Flag",
            "DICT_KEY": "SPASE>Support>SupportQuantity:DataQuality",
            "LABLAXIS": "QF",
        },
        "range": {
            **common,
            "FILLVAL": np.uint8(255),
            "FORMAT": "I1",
            "VALIDMIN": np.uint8(0),
            "VALIDMAX": np.uint8(3),
            "VAR_TYPE": "support_data",
            "UNITS": " ",
            "CATDESC": "Sensor range setting",
            "FIELDNAM": "Sensor Range",
            "CDF_DATA_TYPE": "CDF_UINT1",
            "DICT_KEY": "SPASE>Support>SupportQuantity:InstrumentMode",
            "LABLAXIS": "Range",
        },
        "magnitude": {
            **common,
            "FILLVAL": np.float32(FILL_FLOAT),
            "FORMAT": "F12.5",
            "VALIDMIN": np.float32(0.0),
            "VALIDMAX": np.float32(1.0e5),
            "VAR_TYPE": "support_data",
            "UNITS": "nT",
            "CATDESC": "Magnitude of the magnetic field vector",
            "FIELDNAM": "Magnetic Field Magnitude",
            "CDF_DATA_TYPE": "CDF_FLOAT",
            "DICT_KEY": "SPASE>Field>FieldQuantity:Magnetic,Qualifier:Scalar",
            "LABLAXIS": "|B|",
        },
    }


def mag_l1_vector_attrs(level: str) -> dict[str, object]:
    """``vectors`` of MAG L1B/L1C (``[x, y, z, range]`` in nT, CDF_DOUBLE)."""
    return {
        "CATDESC": "Magnetic field vectors with x y z and sensor range varying by time",
        "DEPEND_0": "epoch",
        "DEPEND_1": "direction",
        "DICT_KEY": "SPASE>Field>FieldQuantity:Magnetic,Qualifier:Vector,CoordinateSystemName:SRF,"
        "CoordinateRepresentation:Cartesian",
        "DISPLAY_TYPE": "time_series",
        "FIELDNAM": "Magnetic Field",
        "FILLVAL": np.float64(9.223372036854776e18),
        "FORMAT": "F12.5",
        "LABL_PTR_1": "direction_label",
        "UNITS": " ",
        "VALIDMAX": np.float64(9.223372036854776e18),
        "VALIDMIN": np.float64(-9.223372036854776e18),
        "VAR_TYPE": "data",
    }


def mag_compression_attrs() -> dict[str, dict[str, object]]:
    """``compression`` coordinate and ``compression_flags`` of MAG L1B/L1C."""
    return {
        "compression": {
            "CATDESC": "Data compression flag",
            "DISPLAY_TYPE": "no_plot",
            "FIELDNAM": "Compression",
            "FILLVAL": INT64_MIN,
            "FORMAT": "I2",
            "LABLAXIS": "Compressed",
            "UNITS": "counts",
            "VALIDMAX": np.int64(21),
            "VALIDMIN": np.int64(0),
            "VAR_TYPE": "support_data",
        },
        "compression_flags": {
            "CATDESC": "Compression information per time stamp, includes a flag and the compression width",
            "DEPEND_0": "epoch",
            "DEPEND_1": "compression",
            "DICT_KEY": "SPASE>Support>SupportQuantity:Other",
            "DISPLAY_TYPE": "no_plot",
            "FIELDNAM": "Compression information per time stamp",
            "FILLVAL": np.int8(0),
            "FORMAT": "I2",
            "LABL_PTR_1": "compression_label",
            "UNITS": " ",
            "VALIDMAX": np.int8(21),
            "VALIDMIN": np.int8(0),
            "VAR_TYPE": "support_data",
        },
    }


def mag_l1c_extra_attrs() -> dict[str, dict[str, object]]:
    """``vector_magnitude`` and ``generated_flag`` of MAG L1C."""
    return {
        "vector_magnitude": {
            "CATDESC": "Magnitude of the magnetic field vector",
            "DEPEND_0": "epoch",
            "DICT_KEY": "SPASE>Field>FieldQuantity:Magnetic,Qualifier:Scalar",
            "DISPLAY_TYPE": "time_series",
            "FIELDNAM": "Magnetic Field Magnitude",
            "FILLVAL": np.float64(FILL_FLOAT),
            "FORMAT": "F12.5",
            "LABLAXIS": "|B|",
            "UNITS": "nT",
            "VALIDMAX": np.float64(1.0e5),
            "VALIDMIN": np.float64(0.0),
            "VAR_TYPE": "support_data",
        },
        "generated_flag": {
            "CATDESC": "Flag indicating if the vector was generated from burst data (1) or is a normal sample (0)",
            "DEPEND_0": "epoch",
            "DICT_KEY": "SPASE>Support>SupportQuantity:DataQuality",
            "DISPLAY_TYPE": "time_series",
            "FIELDNAM": "Generated Flag",
            "FILLVAL": np.float64(255),
            "FORMAT": "I1",
            "LABLAXIS": "Generated",
            "UNITS": " ",
            "VALIDMAX": np.float64(1),
            "VALIDMIN": np.float64(0),
            "VAR_TYPE": "support_data",
        },
    }
