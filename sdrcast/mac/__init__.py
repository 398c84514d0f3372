"""Link/MAC layers: payload framing per standard, plus MPEG-TS and IP helpers shared by all."""
