import Service
import Testing

struct LogLineTests {
    @Test func levelMessageThenSortedKeyValues() {
        #expect(LogLine.format(level: "info", message: "jack: ready") == "sideman: info: jack: ready")
        #expect(
            LogLine.format(level: "warning", message: "xruns", metadata: ["port": "sideman:out", "count": "3"])
                == "sideman: warning: xruns count=3 port=sideman:out")
    }

    @Test func valuesThatWouldSplitAreQuotedAndEveryEventIsOneLine() {
        let line = LogLine.format(
            level: "error", message: "two\nlines", metadata: ["path": "/a b/c", "empty": "", "q": "say \"hi\"", "eq": "a=b"])
        #expect(line == #"sideman: error: two lines empty="" eq="a=b" path="/a b/c" q="say \"hi\"""#)
        #expect(!line.contains("\n"))
    }
}
