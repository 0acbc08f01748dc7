// TemplateStore and ApplyTemplate: what a template gives a create request, what is checked on
// define, and that templates survive a restart of the store.
#include "daemon/template_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "rest/sys/file_util.h"
#include "tests/temp_dir.h"

namespace osb::daemon {
namespace {

namespace v1 = opensandbox::v1;

v1::Template Python() {
  v1::Template t;
  t.set_name("python");
  t.set_image("python:3.11");
  t.add_entrypoint("sleep");
  t.add_entrypoint("infinity");
  t.mutable_timeout()->set_seconds(600);
  (*t.mutable_env())["LANG"] = "C.UTF-8";
  (*t.mutable_env())["MODE"] = "template";
  (*t.mutable_metadata())["team"] = "ml";
  t.mutable_image_auth()->set_username("bot");
  t.mutable_image_auth()->set_password("s3cret");
  return t;
}

class TemplateStoreTest : public ::testing::Test {
 protected:
  test::TempDir temp_{"osb-templates"};
  const std::string& dir_ = temp_.path();
};

TEST(ApplyTemplateTest, TheRequestWinsAndTheTemplateFillsTheRest) {
  v1::CreateSandboxRequest request;
  request.set_template_("python");
  (*request.mutable_env())["MODE"] = "request";
  request.set_manual_cleanup(true);
  v1::CreateSandboxRequest merged = ApplyTemplate(Python(), request);
  EXPECT_EQ(merged.template_(), "");
  EXPECT_EQ(merged.image(), "python:3.11");
  EXPECT_EQ(merged.entrypoint_size(), 2);
  EXPECT_EQ(merged.env().at("MODE"), "request");
  EXPECT_EQ(merged.env().at("LANG"), "C.UTF-8");
  EXPECT_EQ(merged.metadata().at("team"), "ml");
  EXPECT_TRUE(merged.manual_cleanup());
  EXPECT_FALSE(merged.has_timeout()) << "the request's manual cleanup beats the template's TTL";
  EXPECT_EQ(merged.image_auth().password(), "s3cret");

  v1::CreateSandboxRequest own_image;
  own_image.set_image("debian");
  EXPECT_EQ(ApplyTemplate(Python(), own_image).image(), "debian");
  EXPECT_EQ(ApplyTemplate(Python(), own_image).timeout().seconds(), 600);
}

TEST_F(TemplateStoreTest, DefineGetListDeleteAndSurviveARestart) {
  std::vector<std::string> skipped;
  {
    TemplateStore store(dir_, &skipped);
    auto defined = store.Define(Python());
    ASSERT_TRUE(defined.ok()) << defined.status();
    EXPECT_TRUE(defined->has_created_at());
    v1::Template other;
    other.set_name("bare");  // no image: allowed for a template
    ASSERT_TRUE(store.Define(other).ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/python.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a template may hold registry credentials";

  TemplateStore reloaded(dir_, &skipped);
  EXPECT_TRUE(skipped.empty());
  auto got = reloaded.Get("python");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->image(), "python:3.11");
  EXPECT_EQ(got->image_auth().password(), "s3cret");
  EXPECT_EQ(WithoutSecrets(*got).image_auth().password(), "");
  EXPECT_EQ(WithoutSecrets(*got).image_auth().username(), "bot");
  auto all = reloaded.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name(), "bare");
  EXPECT_EQ(all[1].name(), "python");

  ASSERT_TRUE(reloaded.Delete("bare").ok());
  EXPECT_EQ(reloaded.Delete("bare").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reloaded.Get("bare").status().code(), absl::StatusCode::kNotFound);
  TemplateStore again(dir_, &skipped);
  EXPECT_EQ(again.List().size(), 1u);
}

TEST_F(TemplateStoreTest, ConfigTemplatesAreKeptInMemoryAndCannotBeChangedByTheApi) {
  std::vector<std::string> skipped;
  TemplateStore store(dir_, &skipped);
  ASSERT_TRUE(store.Define(Python()).ok());
  auto from_file = store.DefineFromConfig(Python());  // shadows the saved one
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_TRUE(from_file->from_config());
  EXPECT_TRUE(store.Get("python")->from_config());
  EXPECT_EQ(store.Define(Python()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.Delete("python").code(), absl::StatusCode::kFailedPrecondition);
  v1::Template bad = Python();
  bad.set_name("Not A Label");
  EXPECT_EQ(store.DefineFromConfig(bad).status().code(), absl::StatusCode::kInvalidArgument);
  // The file is the record of its templates: the saved one is what a store without it loads.
  TemplateStore reloaded(dir_, &skipped);
  EXPECT_FALSE(reloaded.Get("python")->from_config());
}

TEST_F(TemplateStoreTest, BadTemplatesAreRefusedAndNothingIsStored) {
  std::vector<std::string> skipped;
  TemplateStore store(dir_, &skipped);
  for (const char* name : {"", "Upper", "-dash", "dash-", "a/b", "../x"}) {
    v1::Template t = Python();
    t.set_name(name);
    EXPECT_EQ(store.Define(t).status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  v1::Template both = Python();
  both.set_manual_cleanup(true);  // and a timeout
  EXPECT_EQ(store.Define(both).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Template short_ttl = Python();
  short_ttl.mutable_timeout()->set_seconds(5);
  EXPECT_EQ(store.Define(short_ttl).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store.List().empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir_) || !std::filesystem::exists(dir_ + "/python.json"));
}

TEST_F(TemplateStoreTest, AnUnreadableFileIsSkippedAndNamed) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/broken.json", "{not json", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/Bad_Name.json", "{}", 0600).ok());
  std::vector<std::string> skipped;
  TemplateStore store(dir_, &skipped);
  EXPECT_TRUE(store.List().empty());
  EXPECT_EQ(skipped.size(), 2u);
}

}  // namespace
}  // namespace osb::daemon
