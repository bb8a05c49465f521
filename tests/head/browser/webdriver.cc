#include "webdriver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "head/dashboard_client.h"

namespace lumen::head::testing {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(begin, end - begin) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  return "";
}

// A port free now on loopback (the kernel's pick; chromedriver binds it next).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string DecodeBase64(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, buffer = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;  // '=' padding, newlines
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

}  // namespace

bool WebDriver::Find(std::string* chromium, std::string* chromedriver) {
  *chromium = OnPath("chromium");
  if (chromium->empty()) *chromium = OnPath("chromium-browser");
  *chromedriver = OnPath("chromedriver");
  return !chromium->empty() && !chromedriver->empty();
}

bool WebDriver::WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool WebDriver::Start(const std::string& chromium, const std::string& chromedriver, std::string* error) {
  char pattern[] = "/tmp/lumen-webdriver-XXXXXX";
  if (!mkdtemp(pattern)) {
    *error = "cannot make a temp dir";
    return false;
  }
  temp_dir_ = pattern;
  int port = FreePort();
  base_url_ = "http://127.0.0.1:" + std::to_string(port);
  std::string log = temp_dir_ + "/chromedriver.log";
  pid_t parent = getpid();
  driver_pid_ = fork();
  if (driver_pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  if (driver_pid_ == 0) {
    // Its own process group, so Chromium and its helpers end with it; and it
    // dies with this test even if the test is killed.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::string port_arg = "--port=" + std::to_string(port);
    execl(chromedriver.c_str(), chromedriver.c_str(), port_arg.c_str(), "--allowed-ips=127.0.0.1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(driver_pid_, driver_pid_);  // also here: no race with the child's own call
  bool ready = WaitFor([&] {
    HttpResult r = HttpCall(base_url_, "GET", "/status", "", 1000);
    if (!r.ok) return false;
    json j = json::parse(r.body, nullptr, false);
    return !j.is_discarded() && j["value"].value("ready", false);
  }, std::chrono::seconds(20));
  if (!ready) {
    *error = "chromedriver did not answer /status within 20 s (see " + log + ")";
    return false;
  }
  json args = {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-extensions", "--window-size=1400,900", "--user-data-dir=" + temp_dir_ + "/profile"};
  json caps = {{"capabilities", {{"alwaysMatch", {{"browserName", "chrome"},
                                                  {"goog:chromeOptions", {{"binary", chromium}, {"args", args}}}}}}}};
  json answer = Call("POST", "/session", caps, 60000);
  if (!answer.contains("sessionId")) {
    *error = "no browser session: " + last_error_;
    return false;
  }
  session_ = answer["sessionId"];
  return true;
}

void WebDriver::Quit() {
  if (!session_.empty()) {
    Call("DELETE", "/session/" + session_, {}, 10000);  // chromedriver closes the browser
    session_.clear();
  }
  if (driver_pid_ > 0) {
    kill(-driver_pid_, SIGTERM);
    int status = 0;
    bool reaped = WaitFor([&] { return waitpid(driver_pid_, &status, WNOHANG) == driver_pid_; },
                          std::chrono::seconds(5));
    kill(-driver_pid_, SIGKILL);  // whatever of the group is left (Chromium's helpers)
    if (!reaped) waitpid(driver_pid_, &status, 0);
    driver_pid_ = -1;
  }
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
    temp_dir_.clear();
  }
}

WebDriver::~WebDriver() { Quit(); }

json WebDriver::Call(const std::string& method, const std::string& path, const json& body, int timeout_ms) {
  HttpResult r = HttpCall(base_url_, method, path, body.is_null() ? "" : body.dump(), timeout_ms);
  if (!r.ok) {
    last_error_ = method + " " + path + ": " + r.error;
    return nullptr;
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("value")) {
    last_error_ = method + " " + path + ": not a WebDriver answer: " + r.body.substr(0, 200);
    return nullptr;
  }
  if (r.status != 200) {
    last_error_ = method + " " + path + ": " + j["value"].value("error", "") + ": " + j["value"].value("message", "");
    return nullptr;
  }
  return j["value"];
}

bool WebDriver::Navigate(const std::string& url) {
  last_error_.clear();
  Call("POST", "/session/" + session_ + "/url", {{"url", url}}, 30000);
  return last_error_.empty();
}

json WebDriver::Execute(const std::string& script, const json& args) {
  return Call("POST", "/session/" + session_ + "/execute/sync", {{"script", script}, {"args", args}});
}

bool WebDriver::Click(const std::string& css) {
  json element = Call("POST", "/session/" + session_ + "/element", {{"using", "css selector"}, {"value", css}});
  if (!element.is_object() || !element.contains(kElementKey)) return false;
  std::string id = element[kElementKey];
  last_error_.clear();
  Call("POST", "/session/" + session_ + "/element/" + id + "/click", json::object());
  return last_error_.empty();
}

bool WebDriver::Screenshot(const std::string& path) {
  json png = Call("GET", "/session/" + session_ + "/screenshot");
  if (!png.is_string()) return false;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << DecodeBase64(png.get<std::string>());
  return static_cast<bool>(out.flush());
}

int WebDriver::Count(const std::string& css) {
  nlohmann::json n = Execute("return document.querySelectorAll(arguments[0]).length", {css});
  return n.is_number() ? n.get<int>() : -1;
}

std::string WebDriver::Text(const std::string& css) {
  nlohmann::json t = Execute("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", {css});
  return t.is_string() ? t.get<std::string>() : "";
}

std::string WebDriver::Attribute(const std::string& css, const std::string& name) {
  nlohmann::json t =
      Execute("const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null", {css, name});
  return t.is_string() ? t.get<std::string>() : "";
}

bool WebDriver::ClickWhenThere(const std::string& css, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return Count(css) > 0 && Click(css); }, timeout);
}

}  // namespace lumen::head::testing
