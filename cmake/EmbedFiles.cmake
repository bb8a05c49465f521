# Writes OUTPUT, a C++ file defining lumen::head::kPageFiles: every file of
# the comma-separated FILES (paths relative to DIR) as bytes, with its
# content type.
# Run at build time (cmake -P), so editing the page rebuilds the binary.
string(REPLACE "," ";" FILES "${FILES}")
set(body "")
set(table "")
set(index 0)
foreach(name IN LISTS FILES)
  file(READ ${DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  get_filename_component(ext ${name} LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".svg")
    set(type "image/svg+xml")
  else()
    set(type "application/octet-stream")
  endif()
  string(APPEND body "const char kFile${index}[] = {${bytes} '\\0'};\n")
  string(APPEND table "    {\"/${name}\", \"${type}\", kFile${index}, ${size}},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from head/page/ by cmake/EmbedFiles.cmake: do not edit.\n"
  "#include \"head/page_files.h\"\n\nnamespace lumen::head {\nnamespace {\n${body}}  // namespace\n\n"
  "extern const PageFile kPageFiles[] = {\n${table}};\n"
  "extern const size_t kPageFileCount = ${index};\n\n}  // namespace lumen::head\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
