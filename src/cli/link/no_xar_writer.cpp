// Linked into `strata` when libarchive is linked statically
// (cmake/static_deps.cmake): libarchive's table of write formats, in the
// object file of the pax writer strata uses, names every writer, and so
// pulled in the xar writer and with it libxml2 and ICU — 1.8 MB of code,
// 30 MB of ICU's data, ~4,000 relocations and 16 pages of `.data.rel.ro`
// written at every start (0.1 ms of each `strata` command here). strata
// never writes xar; this definition comes first, so theirs is not linked.
#include <archive.h>

#include <cerrno>

extern "C" int archive_write_set_format_xar(struct archive* a) {
    archive_set_error(a, EINVAL, "xar archives are not supported");
    return ARCHIVE_FATAL;
}
