// The `created_by` text of every instruction, checked against the format
// strings of BuildKit's dockerfile2llb (commitToHistory and its callers):
// one row per instruction form, including EXPOSE, which BuildKit prints as
// the Go map nat.ParsePortSpecs returns (keys sorted as strings, once each).
#include <gtest/gtest.h>

#include "planner_test_support.hpp"

namespace strata::planner {
namespace {

using testing::FakeResolver;

struct Row {
    const char* dockerfile;  // after "FROM scratch\n"; the row checks the last step
    const char* created_by;
    bool empty_layer;
    std::map<std::string, std::string> build_args = {};
};

const Step& last_step(const BuildPlan& p) {
    return p.target_stage().steps.back();
}

TEST(HistoryText, EveryInstructionAsBuildKitRecordsIt) {
    const std::vector<Row> rows = {
        // EXPOSE: sorted as strings ("443" < "80"), duplicates once, ranges
        // expanded, protocol lower-cased, variables expanded.
        {"EXPOSE 80", "EXPOSE map[80/tcp:{}]", true},
        {"EXPOSE 80 443", "EXPOSE map[443/tcp:{} 80/tcp:{}]", true},
        {"EXPOSE 8080 80/udp 80", "EXPOSE map[80/tcp:{} 80/udp:{} 8080/tcp:{}]", true},
        {"EXPOSE 80 80/tcp 80", "EXPOSE map[80/tcp:{}]", true},
        {"EXPOSE 9000-9002/UDP", "EXPOSE map[9000/udp:{} 9001/udp:{} 9002/udp:{}]", true},
        {"EXPOSE 53/sctp 1000", "EXPOSE map[1000/tcp:{} 53/sctp:{}]", true},
        {"ARG P=3000\nEXPOSE $P 22", "EXPOSE map[22/tcp:{} 3000/tcp:{}]", true},
        {"EXPOSE 127.0.0.1:8000:80", "EXPOSE map[80/tcp:{}]", true},
        // RUN: the command line, the declared ARGs as "|N K=V" in front.
        {"RUN echo hi", "RUN /bin/sh -c echo hi # buildkit", false},
        {"RUN [\"echo\", \"a b\"]", "RUN echo a b # buildkit", false},
        {"ARG V=1\nRUN echo $V", "RUN |1 V=1 /bin/sh -c echo $V # buildkit", false},
        {"ARG V\nRUN true", "RUN |1 V=2 /bin/sh -c true # buildkit", false, {{"V", "2"}}},
        {"SHELL [\"/bin/bash\", \"-eu\", \"-c\"]\nRUN ls", "RUN /bin/bash -eu -c ls # buildkit",
         false},
        // COPY / ADD: flags BuildKit writes (--parents, --chown, --chmod, in
        // that order), sources and destination as written after expansion.
        {"COPY a /b", "COPY a /b # buildkit", false},
        {"COPY --link a b ./", "COPY a b ./ # buildkit", false},
        {"COPY --chmod=0644 --chown=app x /y/", "COPY --chown=app --chmod=0644 x /y/ # buildkit",
         false},
        {"ARG D=/opt\nCOPY f $D/", "COPY f /opt/ # buildkit", false},
        {"ADD --checksum=sha256:"
         "24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
         "https://example.com/a.tar /a",
         "ADD https://example.com/a.tar /a # buildkit", false},
        {"ADD --chmod=u+x s.sh /s.sh", "ADD --chmod=u+x s.sh /s.sh # buildkit", false},
        {"COPY <<EOT /f\nx\nEOT", "COPY <<EOT /f # buildkit", false},
        // Metadata: no layer.
        {"ENV K=V", "ENV K=V", true},
        {"ENV A=1 B=\"two words\"", "ENV A=1 B=two words", true},
        {"ENV OLD style value", "ENV OLD=style value", true},
        {"LABEL a=b", "LABEL a=b", true},
        {"LABEL \"com.x\"=\"y z\" n=1", "LABEL com.x=y z n=1", true},
        {"ARG A", "ARG A", true},
        {"ARG A=1 B", "ARG A=1 B", true},
        {"ARG A=1", "ARG A=cli", true, {{"A", "cli"}}},
        {"USER nobody", "USER nobody", true},
        {"ARG U=app\nUSER $U:staff", "USER app:staff", true},
        {"WORKDIR /x", "WORKDIR /x", false},
        {"WORKDIR /x\nWORKDIR y/../z", "WORKDIR /x/z", false},
        {"WORKDIR /", "WORKDIR /", true},
        {"CMD [\"x\"]", "CMD [\"x\"]", true},
        {"CMD echo \"$HOME\"", "CMD [\"/bin/sh\" \"-c\" \"echo \\\"$HOME\\\"\"]", true},
        {"ENTRYPOINT [\"/e\", \"a\\tb\"]", "ENTRYPOINT [\"/e\" \"a\\tb\"]", true},
        {"ENTRYPOINT run it", "ENTRYPOINT [\"/bin/sh\" \"-c\" \"run it\"]", true},
        {"STOPSIGNAL SIGTERM", "STOPSIGNAL SIGTERM", true},
        {"SHELL [\"pwsh\", \"-c\"]", "SHELL [pwsh -c]", true},
        {"VOLUME /data", "VOLUME [/data]", true},
        {"VOLUME [\"/a\", \"/b\"]", "VOLUME [/a /b]", true},
        {"MAINTAINER me <me@x.org>", "MAINTAINER me <me@x.org>", true},
        {"HEALTHCHECK --interval=5s --timeout=3s --start-period=1m CMD [\"check\"]",
         "HEALTHCHECK {Test:[CMD check] Interval:5s Timeout:3s StartPeriod:1m0s "
         "StartInterval:0s Retries:0}",
         true},
        {"HEALTHCHECK --start-interval=500ms --retries=2 CMD true",
         "HEALTHCHECK {Test:[CMD-SHELL true] Interval:0s Timeout:0s StartPeriod:0s "
         "StartInterval:500ms Retries:2}",
         true},
    };
    for (const Row& row : rows) {
        FakeResolver images;
        const BuildPlan p = testing::plan(std::string("FROM scratch\n") + row.dockerfile + "\n",
                                          images, testing::options(row.build_args));
        const Step& step = last_step(p);
        ASSERT_TRUE(step.effect.history.has_value()) << row.dockerfile;
        EXPECT_EQ(step.effect.history->created_by, row.created_by) << row.dockerfile;
        EXPECT_EQ(step.effect.history->empty_layer, row.empty_layer) << row.dockerfile;
    }
}

TEST(HistoryText, OnbuildRecordsNoHistory) {
    FakeResolver images;
    const BuildPlan p = testing::plan("FROM scratch\nONBUILD RUN make\n", images);
    EXPECT_FALSE(last_step(p).effect.history.has_value());
}

TEST(HistoryText, ExposeKeepsEveryPortInTheConfig) {
    // The config's ExposedPorts is a set; the step lists each port it adds.
    FakeResolver images;
    const BuildPlan p = testing::plan("FROM scratch\nEXPOSE 80 443 80/udp 80\n", images);
    std::vector<std::string> ports = last_step(p).effect.exposed_ports;
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    EXPECT_EQ(ports, (std::vector<std::string>{"443/tcp", "80/tcp", "80/udp"}));
}

}  // namespace
}  // namespace strata::planner
