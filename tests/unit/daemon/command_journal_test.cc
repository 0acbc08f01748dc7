// CommandJournal and CommandJournals: numbering, late readers, the bounded window, backpressure
// and retention, as Commands.Run and Attach rely on them.
#include "daemon/command_journal.h"

#include <gtest/gtest.h>

#include <vector>

#include "daemon/command_journals.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;

v1::CommandEvent Line(const std::string& text) {
  v1::CommandEvent event;
  event.mutable_stdout()->set_data(text);
  return event;
}

// A reader that counts its wake-ups.
struct CountingReader : JournalReader {
  void OnJournalUpdate() override { ++updates; }
  int updates = 0;
};

std::shared_ptr<ReaderLink> LinkTo(CountingReader* reader) {
  auto link = std::make_shared<ReaderLink>();
  absl::MutexLock lock(&link->mu);
  link->reader = reader;
  return link;
}

class CommandJournalTest : public ::testing::Test {
 protected:
  // Everything `id` can read now: the events' texts, then "END <code>" if the end was reached.
  static std::vector<std::string> Drain(CommandJournal& journal,
                                        CommandJournal::SubscriptionId id) {
    std::vector<std::string> out;
    for (;;) {
      CommandJournal::Next next = journal.Read(id);
      if (next.event.has_value()) {
        out.push_back(std::to_string(next.event->seq()) + ":" + next.event->stdout().data());
      } else {
        if (next.end.has_value()) out.push_back("END " + std::to_string(next.end->error_code()));
        return out;
      }
    }
  }

  CurlLoop loop_;
};

TEST_F(CommandJournalTest, NumbersEventsAndReplaysThemToALateReader) {
  CommandJournal journal(loop_);
  CountingReader early_reader;
  auto early = journal.Subscribe(LinkTo(&early_reader), 0);
  ASSERT_TRUE(early.ok());
  journal.Append(Line("a"));
  journal.Append(Line("b"));
  EXPECT_EQ(early_reader.updates, 2);
  EXPECT_EQ(Drain(journal, *early), (std::vector<std::string>{"1:a", "2:b"}));
  EXPECT_TRUE(Drain(journal, *early).empty()) << "nothing new, and not ended";

  CountingReader late_reader;
  auto late = journal.Subscribe(LinkTo(&late_reader), 1);
  ASSERT_TRUE(late.ok());
  journal.Append(Line("c"));
  journal.End(grpc::Status::OK);
  journal.Append(Line("after the end"));  // ignored
  EXPECT_EQ(Drain(journal, *late), (std::vector<std::string>{"2:b", "3:c", "END 0"}));
  EXPECT_EQ(Drain(journal, *early), (std::vector<std::string>{"3:c", "END 0"}));
  EXPECT_EQ(journal.last_seq(), 3u);
  EXPECT_TRUE(journal.ended());
}

TEST_F(CommandJournalTest, ReadSaysWhetherMoreEventsAreWaiting) {
  CommandJournal journal(loop_);
  CountingReader reader;
  auto id = journal.Subscribe(LinkTo(&reader), 0);
  ASSERT_TRUE(id.ok());
  journal.Append(Line("a"));
  journal.Append(Line("b"));
  CommandJournal::Next first = journal.Read(*id);
  ASSERT_TRUE(first.event.has_value());
  EXPECT_TRUE(first.more) << "b is waiting";
  CommandJournal::Next second = journal.Read(*id);
  ASSERT_TRUE(second.event.has_value());
  EXPECT_FALSE(second.more) << "nothing after b yet";
  journal.Append(Line("c"));
  journal.End(grpc::Status::OK);
  CommandJournal::Next last = journal.Read(*id);
  ASSERT_TRUE(last.event.has_value());
  EXPECT_TRUE(last.end.has_value());
  EXPECT_FALSE(last.more) << "c is the last event";
}

TEST_F(CommandJournalTest, AReaderFromBeyondTheLastEventIsRefused) {
  CommandJournal journal(loop_);
  journal.Append(Line("a"));
  CountingReader reader;
  EXPECT_EQ(journal.Subscribe(LinkTo(&reader), 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(journal.Subscribe(LinkTo(&reader), 1).ok()) << "right after the last is fine";
}

TEST_F(CommandJournalTest, TheWindowDropsTheOldestEventsWhenNoOneReads) {
  CommandJournal::Limits limits;
  limits.max_events = 3;
  CommandJournal journal(loop_, limits);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(journal.Append(Line(std::to_string(i))), DataAction::kContinue);
  }
  EXPECT_EQ(journal.first_seq(), 3u);
  CountingReader reader;
  auto dropped = journal.Subscribe(LinkTo(&reader), 0);
  EXPECT_EQ(dropped.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(dropped.status().message().find("the oldest kept is 3"), std::string::npos)
      << dropped.status();
  auto kept = journal.Subscribe(LinkTo(&reader), 2);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(Drain(journal, *kept), (std::vector<std::string>{"3:3", "4:4", "5:5"}));
}

TEST_F(CommandJournalTest, ASlowReaderPausesTheFeedUntilItCatchesUp) {
  CommandJournal::Limits limits;
  limits.high_water_events = 4;
  limits.low_water_events = 1;
  CommandJournal journal(loop_, limits);
  CountingReader reader;
  auto id = journal.Subscribe(LinkTo(&reader), 0);
  ASSERT_TRUE(id.ok());
  std::vector<DataAction> actions;
  for (int i = 0; i < 5; ++i) actions.push_back(journal.Append(Line("x")));
  EXPECT_EQ(actions, (std::vector<DataAction>{DataAction::kContinue, DataAction::kContinue,
                                              DataAction::kContinue, DataAction::kPause,
                                              DataAction::kPause}));
  EXPECT_EQ(Drain(journal, *id).size(), 5u);
  EXPECT_EQ(journal.Append(Line("y")), DataAction::kContinue) << "caught up: flowing again";
}

TEST_F(CommandJournalTest, AReaderThatLeavesNoLongerHoldsTheFeedBack) {
  CommandJournal::Limits limits;
  limits.high_water_events = 2;
  CommandJournal journal(loop_, limits);
  CountingReader reader;
  auto id = journal.Subscribe(LinkTo(&reader), 0);
  ASSERT_TRUE(id.ok());
  journal.Append(Line("a"));
  EXPECT_EQ(journal.Append(Line("b")), DataAction::kPause);
  journal.Unsubscribe(*id);
  EXPECT_EQ(journal.Append(Line("c")), DataAction::kContinue);
}

TEST_F(CommandJournalTest, AGoneReaderIsNotWoken) {
  CommandJournal journal(loop_);
  CountingReader reader;
  auto link = LinkTo(&reader);
  ASSERT_TRUE(journal.Subscribe(link, 0).ok());
  {
    absl::MutexLock lock(&link->mu);
    link->reader = nullptr;
  }
  journal.Append(Line("a"));
  journal.End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "broke"));
  EXPECT_EQ(reader.updates, 0);
}

TEST(CommandJournalsTest, FindsByIdsAndForgetsEndedJournalsAfterTheirRetention) {
  CurlLoop loop;
  CommandJournals::Limits limits;
  limits.retention = absl::Milliseconds(100);
  CommandJournals journals(limits);
  auto running = std::make_shared<CommandJournal>(loop);
  auto ended = std::make_shared<CommandJournal>(loop);
  journals.Add("sb", "running", running);
  journals.Add("sb", "ended", ended);
  ended->End(grpc::Status::OK);
  EXPECT_EQ(journals.Find("sb", "running"), running);
  EXPECT_EQ(journals.Find("sb", "ended"), ended);
  EXPECT_EQ(journals.Find("other-sandbox", "running"), nullptr);
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(journals.Find("sb", "ended"), nullptr);
  EXPECT_EQ(journals.Find("sb", "running"), running) << "a running command is never forgotten";
}

TEST(CommandJournalsTest, KeepsAtMostMaxEndedJournalsDroppingTheOldest) {
  CurlLoop loop;
  CommandJournals::Limits limits;
  limits.max_ended = 2;
  CommandJournals journals(limits);
  for (const char* id : {"a", "b", "c"}) {
    auto journal = std::make_shared<CommandJournal>(loop);
    journal->End(grpc::Status::OK);
    journals.Add("sb", id, journal);
    absl::SleepFor(absl::Milliseconds(2));
  }
  journals.Add("sb", "d", std::make_shared<CommandJournal>(loop));
  EXPECT_EQ(journals.Size().first, 3u) << "Size sweeps: the oldest ended journal is gone";
  EXPECT_EQ(journals.Find("sb", "a"), nullptr);
  EXPECT_NE(journals.Find("sb", "b"), nullptr);
  EXPECT_NE(journals.Find("sb", "c"), nullptr);
  EXPECT_NE(journals.Find("sb", "d"), nullptr);
}

TEST(CommandJournalsTest, ManyRunsStayWithinTwiceTheBoundBetweenSweeps) {
  CurlLoop loop;
  CommandJournals::Limits limits;
  limits.max_ended = 8;
  CommandJournals journals(limits);
  // The journals still alive are the ones the registry holds: it has the only reference.
  std::vector<std::weak_ptr<CommandJournal>> made;
  std::size_t most = 0;
  for (int i = 0; i < 200; ++i) {
    auto journal = std::make_shared<CommandJournal>(loop);
    journal->End(grpc::Status::OK);
    made.push_back(journal);
    journals.Add("sb", std::to_string(i), std::move(journal));
    most = std::max<std::size_t>(
        most, std::count_if(made.begin(), made.end(), [](const auto& w) { return !w.expired(); }));
  }
  EXPECT_LE(most, 2 * limits.max_ended + 1);
  EXPECT_EQ(journals.Size().first, limits.max_ended);
  EXPECT_NE(journals.Find("sb", "199"), nullptr) << "the newest are kept";
}

}  // namespace
}  // namespace osb::daemon
