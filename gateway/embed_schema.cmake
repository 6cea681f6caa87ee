# Turns schema.graphql into a C source (gw_schema_sdl) so the daemon serves
# the committed SDL without reading files at run time.
#   cmake -DIN=schema.graphql -DOUT=schema_sdl.c -P embed_schema.cmake
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE ${OUT} "#include \"schema_sdl.h\"\n\nconst char gw_schema_sdl[] = {\n${body}0x00};\nconst unsigned long gw_schema_sdl_len = ${bytes};\n")
