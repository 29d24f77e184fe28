#!/usr/bin/env bash
# Integration: the dashboard in a real browser. The real daemon over a
# tiny tree (t-regress.sh's kind: each commit's make installs a prebuilt
# test kernel) whose second commit breaks the VMware interface and has the
# subject <img src=x onerror=alert(1)>"' ; then `hvmatrix dashboard`, and
# Debian's headless Chromium, driven by python3-selenium, opens the site:
# the grid shows the regression on that commit in the VMware cell, every
# link resolves (each page's links are followed on disk, and the ones a
# reader takes first in the browser), no page logs a console error, and
# the subject is text on the grid, the commit page, the regressions page
# and the log page: no alert, no injected img element. Screenshots go to
# t-browser.d/ next to this test's log (git-ignored).
. "$(dirname "$0")/lib.sh"

shots=$top_builddir/orchestrator/tests/t-browser.d
rm -rf "$shots"
mkdir -p "$shots"
for tool in chromium chromedriver; do
	command -v $tool > /dev/null || {
		echo "not ok 1 - $tool missing (tools/setup.sh installs it)"
		exit 99
	}
done
/usr/bin/python3 -c 'import selenium' 2> /dev/null || {
	echo "not ok 1 - python3-selenium missing (tools/setup.sh installs it)"
	exit 99
}

test_kernels

tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }	# SUBJECT KERNEL [broken]
subject='<img src=x onerror=alert(1)>"'"'"
c1=$(commit "good" "$good")
c2=$(commit "$subject" "$vmware")
cat > "$TMP/m.yaml" <<YAML
trees:
  - name: t
    path: $tree
    first: 0
builds:
  - name: b
    base: tinyconfig
cells:
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 20
  - name: plain
    expect: hypervisor=none
YAML
state=$TMP/state
"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
	--until-idle > "$TMP/daemon.log" 2>&1 || true
"$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --json \
	> "$TMP/r.json"
expect_eq "the store has the known regression: VMware, first bad c2" \
	"$(jq -r '[.[] | select(.cell == "vmware") | .first_bad.commit] | join(" ")' "$TMP/r.json")" \
	"$c2"
site=$TMP/site
"$HVM" dashboard --state "$state" --out "$site" > "$TMP/dash.out" 2>&1
check "hvmatrix dashboard writes the site" test -s "$site/index.html"
check "the subject is escaped in the HTML itself" \
	grep -q '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;' "$site/index.html"

[ -n "${T_BROWSER_KEEP:-}" ] && cp -r "$state" "$T_BROWSER_KEEP"
# The browser: each check prints one TAP line; screenshots in $shots.
/usr/bin/python3 - "$site" "$shots" "$c2" "$subject" "$t_n" \
	> "$TMP/browser.out" 2> "$TMP/browser.err" <<'PY'
import os, re, sys, urllib.parse
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

site, shots, c2, subject, n = sys.argv[1:6]
n = int(n)

def tap(ok, desc):
    global n
    n += 1
    print("%sok %d - %s" % ("" if ok else "not ", n, desc), flush=True)

opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
          "--disable-dev-shm-usage", "--window-size=1400,900"):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
opts.set_capability("unhandledPromptBehavior", "ignore")
service = Service(executable_path="/usr/bin/chromedriver")
d = webdriver.Chrome(options=opts, service=service)
d.set_page_load_timeout(60)

def url(rel):
    return "file://" + os.path.join(site, rel)

def visit(rel, shot):
    """Open a page; 'ok' when nothing ran and nothing was logged."""
    d.get(url(rel))
    alert = None
    try:
        alert = d.switch_to.alert.text
        d.switch_to.alert.dismiss()
    except NoAlertPresentException:
        pass
    logs = [l for l in d.get_log("browser") if l["level"] == "SEVERE"]
    imgs = d.execute_script(
        "return Array.from(document.images).map(i => i.outerHTML)")
    d.save_screenshot(os.path.join(shots, shot + ".png"))
    body = d.find_element(By.TAG_NAME, "body").text
    return alert, logs, imgs, body

pages = {}
for rel, name in (("index.html", "grid"), ("regressions.html",
                  "regressions")):
    pages[name] = (rel,) + visit(rel, name)

# The grid: the VMware column of c2's row shows the regression.
d.get(url("index.html"))
heads = [h.text for h in d.find_elements(
    By.CSS_SELECTOR, "table.grid thead th")]
col = heads.index("vmware") if "vmware" in heads else -1
mark = ""
row_text = ""
for tr in d.find_elements(By.CSS_SELECTOR, "table.grid tbody tr"):
    th = tr.find_element(By.TAG_NAME, "th")
    if c2[:12] in th.text:
        row_text = th.text
        tds = tr.find_elements(By.TAG_NAME, "td")
        if col > 0:
            mark = tds[col - 1].text
            cls = tds[col - 1].get_attribute("class")
tap(mark == "REG" and "c-reg" in cls,
    "grid: the VMware cell of the bad commit shows REG (got %r)" % mark)
tap(subject in row_text, "grid: the subject shows as text in its row")
summary = d.find_element(By.ID, "open").text
tap("vmware" in summary and c2[:12] in summary,
    "front page: the open regression names its cell and commit")
tap(d.execute_script("return document.getElementById('open')"
                     ".getBoundingClientRect().bottom") <= 900,
    "front page: the open regressions are on screen without scrolling")

# Follow the reader's links in the browser: commit page, log page.
def href_of(css, contains):
    for a in d.find_elements(By.CSS_SELECTOR, css):
        h = a.get_attribute("href") or ""
        if contains in h:
            return h
    return ""
commit_href = href_of("#open a", "commit/")
log_href = href_of("#open a", "run/")
for name, h in (("commit", commit_href), ("log", log_href)):
    rel = urllib.parse.unquote(h[len("file://" + site) + 1:]) if h else ""
    if not rel or not os.path.exists(os.path.join(site, rel.split("#")[0])):
        tap(False, "%s page: linked from the front page and present (%r)"
            % (name, h))
        continue
    pages[name] = (rel,) + visit(rel, name)
    tap(True, "%s page: linked from the front page and present" % name)

for name in ("grid", "commit", "regressions", "log"):
    if name not in pages:
        tap(False, "%s page: opened" % name)
        continue
    rel, alert, logs, imgs, body = pages[name]
    tap(subject in body, "%s page: the subject shows as text" % name)
    tap(alert is None, "%s page: no alert ran (%r)" % (name, alert))
    tap(not imgs, "%s page: no img element (%r)" % (name, imgs[:2]))
    tap(not logs, "%s page: no console error %s" % (name, logs[:2]))

if "log" in pages:
    d.get(url(pages["log"][0]))
    dec = d.find_elements(By.CSS_SELECTOR, "pre.log .decisive")
    tap(len(dec) == 1, "log page: the decisive line is highlighted")
    cmd = d.find_elements(By.ID, "cmdline")
    tap(bool(cmd) and "qemu-system" in cmd[0].text,
        "log page: the command line that ran it")
    sh = href_of("a", ".sh")
    path = urllib.parse.unquote(sh[len("file://"):]) if sh else ""
    tap(path and os.path.exists(path) and
        "qemu-system" in open(path).read(),
        "log page: reproduce.sh beside it")

# Every link of every page resolves to a file (and its anchor is there).
bad = []
count = 0
for root, _, files in os.walk(site):
    for f in files:
        if not f.endswith(".html"):
            continue
        page = os.path.join(root, f)
        text = open(page, encoding="utf-8").read()
        for h in re.findall(r'href="([^"]*)"', text):
            if h.startswith(("http:", "https:", "data:")):
                continue
            target, _, frag = h.partition("#")
            target = os.path.normpath(os.path.join(root, target)) \
                if target else page
            count += 1
            if not os.path.exists(target):
                bad.append((page, h))
            elif frag and target.endswith(".html") and \
                    ('id="%s"' % frag) not in open(target).read():
                bad.append((page, h))
tap(not bad and count > 0,
    "every one of %d links resolves, anchors included %s" % (count, bad[:3]))
d.quit()
PY
rc=$?
cat "$TMP/browser.out"
sed 's/^/# /' "$TMP/browser.err" | tail -20
t_n=$((t_n + $(grep -c '^\(not \)\?ok' "$TMP/browser.out")))
t_failed=$((t_failed + $(grep -c '^not ok' "$TMP/browser.out")))
[ "$rc" = 0 ] || not_ok "the browser check ran to its end (exit $rc)"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
