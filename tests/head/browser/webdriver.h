// Just enough of the W3C WebDriver protocol to drive headless Chromium from a
// test: chromedriver as a child process, one browser session, elements by CSS
// selector, clicks, scripts and screenshots. No selenium: JSON over HTTP.
//
// Every process it starts (chromedriver, and Chromium under it) runs in one
// process group that the destructor ends (politely, then SIGKILL after a
// bounded wait); the browser's profile lives in a temp dir removed with it.
#pragma once

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

namespace lumen::head::testing {

class WebDriver {
 public:
  // The chromium and chromedriver binaries on PATH; empty if either is missing.
  static bool Find(std::string* chromium, std::string* chromedriver);

  WebDriver() = default;
  ~WebDriver();  // Quit()
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  // Starts chromedriver and a headless browser session; false with a reason.
  bool Start(const std::string& chromium, const std::string& chromedriver, std::string* error);
  void Quit();

  bool Navigate(const std::string& url);
  // Runs `script` (a function body; arguments[0..]) in the page; its return value.
  nlohmann::json Execute(const std::string& script, const nlohmann::json& args = nlohmann::json::array());
  // Clicks the first element matching `css`; false (with last_error()) if none or it failed.
  bool Click(const std::string& css);
  // The page now: how many elements match `css`; the first one's text, or
  // an attribute of it ("" if none).
  int Count(const std::string& css);
  std::string Text(const std::string& css);
  std::string Attribute(const std::string& css, const std::string& name);
  // Clicks `css` once it is there (pages redraw: a stale element is retried).
  bool ClickWhenThere(const std::string& css, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Saves a PNG of the window at `path`.
  bool Screenshot(const std::string& path);
  // Polls `condition` (every 50 ms) until it holds or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

  const std::string& last_error() const { return last_error_; }

 private:
  nlohmann::json Call(const std::string& method, const std::string& path, const nlohmann::json& body = {},
                      int timeout_ms = 10000);

  pid_t driver_pid_ = -1;
  std::string base_url_;
  std::string session_;
  std::string temp_dir_;
  std::string last_error_;
};

}  // namespace lumen::head::testing
