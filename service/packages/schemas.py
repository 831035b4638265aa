from __future__ import annotations

from pydantic import BaseModel, Field


class CodePackageOut(BaseModel):
    """A stored code zip."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "size": 1284,
                    "crc64": "11853237353264580163",
                }
            ]
        }
    }

    sha256: str = Field(description="What deploys name it by (`code_sha256`).")
    size: int = Field(description="Bytes of the zip.")
    crc64: str = Field(
        description="CRC-64/XZ of the zip as an unsigned decimal: what FC reports as the "
        "function's codeChecksum once it runs this code."
    )
