"""Writes the hand-made JPEG regression: the fuzz seed with one 0xFF fill byte before its start
marker (stb_image accepts it) and a DC Huffman table claiming 267 codes (stb's arrays hold 256).
The other files here are fuzz findings kept as found."""
from pathlib import Path

here = Path(__file__).parent
b = bytearray((here / "../../corpus/image/photo.jpg").read_bytes())
dht = b.index(b"\xff\xc4")
assert b[dht + 4] == 0x00  # the first DC table; its 16 code counts follow its class/id byte
b[dht + 5 + 15] = 255
(here / "fill-before-soi-dht-267.jpg").write_bytes(b"\xff" + bytes(b))
