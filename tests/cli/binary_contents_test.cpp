// What the `strata` executable links: libarchive's xar writer, and with it
// libxml2 and ICU, stay out (src/cli/link/no_xar_writer.cpp): their code,
// data and relocations cost every command's start.
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace {

TEST(StrataBinary, LinksNeitherLibxml2NorIcu) {
    std::ifstream f(STRATA_BINARY, std::ios::binary);
    ASSERT_TRUE(f) << STRATA_BINARY;
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_NE(bytes.find("archive_write_set_format_pax_restricted"), std::string::npos)
        << "no symbol names to look at (a stripped binary?)";
    EXPECT_EQ(bytes.find("xmlTextWriterStartElement"), std::string::npos) << "libxml2 is linked";
    EXPECT_EQ(bytes.find("ucnv_open"), std::string::npos) << "ICU is linked";
}

}  // namespace
