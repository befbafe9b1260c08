#!/usr/bin/env bash
# Loads what the demo and the end-to-end tests load at run time (Perl modules,
# commands, shared libraries, Python modules) and, when something is missing,
# names the Debian package (or the e2e/requirements.txt entry) that provides
# it: a missing Recommends then stops the set-up with the package's name,
# instead of an IdP answering 500 minutes into the tests.
#
# scripts/install-deps.sh runs it after installing; e2e/test_fresh_machine_e2e.py
# runs it inside a fresh Debian root file system, so it needs nothing but
# bash, coreutils, ldd and the packages it checks.
#
# usage: check-deps.sh [--venv PYTHON] [--skip PACKAGE]...
#   --venv PYTHON   also import the Python modules the e2e code imports, with
#                   PYTHON (the e2e virtualenv's interpreter)
#   --skip PACKAGE  leave out the checks provided by PACKAGE (a root file
#                   system laid out without it on purpose)
# Exits 0 when every check passes, 1 otherwise.
set -uo pipefail

# Each check: the package that provides it, a kind, what is checked.
#   perl MODULE   perl loads MODULE
#   run  COMMAND  COMMAND (split on spaces, globs expanded) exits 0 within 120 s
#   libs GLOB     ldd finds every shared library of each file matching GLOB
#   file GLOB     a file matches GLOB
#   py   MODULE   Debian's python3 imports MODULE
#   venv MODULE   the --venv interpreter imports MODULE (the "package" is the
#                 e2e/requirements.txt entry that brings it)
# A failed check whose error names a missing module listed here is blamed on
# that module's package.
CHECKS='
# Modules that a package the tests need only recommends (listed by name in
# scripts/debian-packages.txt), first, so that a portal module failing
# because of one of them is blamed on the right package.
libio-string-perl            perl IO::String
libstring-random-perl        perl String::Random
libgd-securityimage-perl     perl GD::SecurityImage
libimage-magick-perl         perl Image::Magick
libcrypt-openssl-bignum-perl perl Crypt::OpenSSL::Bignum

# The LemonLDAP::NG portal as e2e/kit/idp/lemonldap.py configures and starts it:
# plackup with its default server, the File configuration backend, the
# standard logger, file sessions and cache, Demo authentication, user and
# password databases, the OpenID Connect issuer, the captcha module and the
# plugins the portal always loads.
libplack-perl                run  plackup --version
libplack-perl                perl Plack::Runner
libplack-perl                perl HTTP::Server::PSGI
libapache-session-perl       perl Apache::Session::File
libcache-cache-perl          perl Cache::FileCache
liblemonldap-ng-common-perl  perl Lemonldap::NG::Common::Conf::Backends::File
liblemonldap-ng-common-perl  perl Lemonldap::NG::Common::Logger::Std
liblemonldap-ng-common-perl  perl Lemonldap::NG::Common::Apache::Session::Generate::SHA256
liblemonldap-ng-portal-perl  file /usr/share/lemonldap-ng/portal/htdocs/index.psgi
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Main
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Auth::Demo
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::UserDB::Demo
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Password::Demo
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Issuer::OpenIDConnect
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Captcha::SecurityImage
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Plugins::History
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Plugins::RESTServer
liblemonldap-ng-portal-perl  perl Lemonldap::NG::Portal::Plugins::Upgrade

# glewlwyd as e2e/kit/idp/glewlwyd.py runs it: the binary, the plugins and
# modules it loads at start, the package schema and configuration it copies.
glewlwyd                     run  glewlwyd --version
glewlwyd                     libs /usr/lib/glewlwyd/*/*.so
glewlwyd                     file /usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
glewlwyd                     file /etc/glewlwyd/glewlwyd.conf

# The consent-page tests: chromium started headless as they start it, and chromedriver.
chromium                     run  chromium --version
chromium                     run  chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --dump-dom about:blank
chromium-driver              run  chromedriver --version

# PostgreSQL for the storage and replica tests, the tools of the image and
# fresh-system tests, the shells, Python and its virtualenv support.
postgresql                   run  /usr/lib/postgresql/*/bin/initdb --version
postgresql                   run  /usr/lib/postgresql/*/bin/pg_ctl --version
postgresql                   run  psql --version
mmdebstrap                   run  mmdebstrap --version
binutils                     run  strip --version
sqlite3                      run  sqlite3 --version
prometheus                   run  promtool --version
systemd                      run  systemd-analyze --version
tmux                         run  tmux -V
curl                         run  curl --version
python3                      run  python3 --version
python3                      py   sqlite3
python3                      py   ssl
python3-venv                 py   ensurepip
python3-venv                 py   venv

# The e2e code'"'"'s imports from PyPI (e2e/test_fresh_machine_e2e.py checks
# that this list covers them).
httpx                        venv httpx
mcp                          venv httpx2
mcp                          venv mcp.client.streamable_http
mcp                          venv mcp.client.auth.extensions.identity_assertion
mcp                          venv mcp.server.mcpserver
mcp                          venv mcp.server.auth.provider
django-oauth-toolkit         venv django
django-oauth-toolkit         venv oauth2_provider
django-oauth-toolkit         venv jwcrypto
selenium                     venv selenium.webdriver
pyyaml                       venv yaml
cryptography                 venv cryptography.x509
uvicorn                      venv uvicorn
pyjwt[crypto]                venv jwt
pytest                       venv pytest
kubernetes-validate          venv kubernetes_validate
check-jsonschema             venv check_jsonschema
openapi-spec-validator       venv openapi_spec_validator
schemathesis                 venv schemathesis
opentelemetry-proto          venv opentelemetry.proto.collector.trace.v1.trace_service_pb2
'

venv=""
skip=" "
while [ $# -gt 0 ]; do
  case $1 in
    --venv) venv=${2:?--venv needs an interpreter}; shift 2 ;;
    --skip) skip+="${2:?--skip needs a package} "; shift 2 ;;
    *) echo "usage: $0 [--venv PYTHON] [--skip PACKAGE]..." >&2; exit 2 ;;
  esac
done

say() { echo "[check-deps] $*"; }

declare -A provider=()   # "perl IO::String" / "py venv" -> package, for blaming
declare -A from_pypi=()  # the e2e/requirements.txt entries named below
kinds=() packages=() whats=()
while read -r package kind what; do
  case $package in ''|'#'*) continue ;; esac
  provider["$kind $what"]=$package
  [ "$kind" = venv ] && { provider["py $what"]=$package; from_pypi[$package]=1; [ -n "$venv" ] || continue; }
  case $skip in *" $package "*) continue ;; esac
  kinds+=("$kind") packages+=("$package") whats+=("$what")
done <<< "$CHECKS"

failed=0
debian=" "
pypi=" "
fail() {  # package, what, error
  local package=$1 what=$2 error=$3 missing module
  failed=$((failed + 1))
  # "Can't locate IO/String.pm in @INC" / "No module named 'httpx2'": the
  # module that is really missing, and its package when listed here.
  missing=$(sed -n "s|.*Can't locate \([^ ]*\)\.pm in @INC.*|\1|p; s|.*No module named '\([^']*\)'.*|\1|p" <<< "$error" | head -1)
  if [ -n "$missing" ]; then
    module=${missing//\//::}
    if [ -n "${provider["perl $module"]:-}" ]; then
      package=${provider["perl $module"]}
    elif [ -n "${provider["py $module"]:-}" ]; then
      package=${provider["py $module"]}
    elif [[ $error == *"Can't locate"* ]]; then
      package="the package with $missing.pm (apt-file search $missing.pm)"
    fi
  fi
  say "MISSING $what: $error"
  if [ -n "${from_pypi[$package]:-}" ]; then
    say "        -> $package from e2e/requirements.txt"
    case $pypi in *" $package "*) ;; *) pypi+="$package " ;; esac
  else
    say "        -> Debian package $package"
    case $debian in *" $package "*) ;; *) debian+="$package " ;; esac
  fi
}

# Perl modules: one interpreter loads them all; each one that fails is loaded
# again alone, so that its error is its own (not "Attempt to reload").
perl_modules=()
for i in "${!kinds[@]}"; do [ "${kinds[$i]}" = perl ] && perl_modules+=("${whats[$i]}"); done
perl_load='for my $m (@ARGV) { (my $f = "$m.pm") =~ s{::}{/}g; print eval { require $f; 1 } ? "" : "$m\n" }'
perl_failed=" $(perl -e "$perl_load" "${perl_modules[@]}" 2>/dev/null | tr '\n' ' ')"
# Python modules: one interpreter imports them all and prints "module<TAB>error"
# for each that fails, then "<TAB>done" (without it, the interpreter itself failed).
python_errors() {  # interpreter, modules...
  local python=$1; shift
  "$python" -c "import importlib, sys
for m in sys.argv[1:]:
    try:
        importlib.import_module(m)
    except Exception as e:
        print(m, f'{type(e).__name__}: {e}'.replace(chr(10), ' '), sep=chr(9))
print('', 'done', sep=chr(9))" "$@" 2>&1
}
declare -A py_error=()
for interpreter in python3 venv; do
  modules=()
  for i in "${!kinds[@]}"; do [ "${kinds[$i]}" = "${interpreter/python3/py}" ] && modules+=("${whats[$i]}"); done
  [ ${#modules[@]} -gt 0 ] || continue
  python=$interpreter; [ "$interpreter" = venv ] && python=$venv
  command -v "$python" >/dev/null 2>&1 || continue
  out=$(python_errors "$python" "${modules[@]}")
  if ! grep -q $'^\tdone$' <<< "$out"; then
    for m in "${modules[@]}"; do py_error["$interpreter $m"]="$python failed: $(tail -1 <<< "$out")"; done
    continue
  fi
  while IFS=$'\t' read -r module error; do
    [ -n "$module" ] && py_error["$interpreter $module"]=$error
  done <<< "$out"
done

checked=0
for i in "${!kinds[@]}"; do
  kind=${kinds[$i]} package=${packages[$i]} what=${whats[$i]}
  checked=$((checked + 1))
  case $kind in
    perl)
      case $perl_failed in *" $what "*)
        fail "$package" "Perl module $what" \
             "$(perl -e "require $what" 2>&1 | head -1 | sed 's/ (@INC contains: [^)]*)//; s/(you may need to install [^)]*) //')" ;;
      esac ;;
    run)
      # shellcheck disable=SC2086 # split on spaces and expand globs, on purpose
      set -- $what
      if ! command -v "$1" >/dev/null 2>&1; then
        fail "$package" "command $1" "not found"
      else
        out=$(timeout 120 "$@" 2>&1 </dev/null)
        rc=$?
        [ "$rc" -eq 0 ] || fail "$package" "command '$what'" "exit $rc: $(tail -3 <<< "$out" | tr '\n' ' ')"
      fi ;;
    libs)
      # shellcheck disable=SC2086
      for f in $what; do
        if [ ! -e "$f" ]; then fail "$package" "$what" "no such file"; break; fi
        missing=$(ldd "$f" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')
        [ -z "$missing" ] || fail "$package" "shared libraries of $f" "not found: $missing"
      done ;;
    file)
      compgen -G "$what" >/dev/null || fail "$package" "file $what" "no such file" ;;
    py)
      if ! command -v python3 >/dev/null 2>&1; then fail "$package" "python3" "not found"
      elif [ -n "${py_error["python3 $what"]+set}" ]; then fail "$package" "Python module $what (python3)" "${py_error["python3 $what"]}"
      fi ;;
    venv)
      if ! command -v "$venv" >/dev/null 2>&1; then fail "$package" "$venv" "not found"
      elif [ -n "${py_error["venv $what"]+set}" ]; then fail "$package" "Python module $what ($venv)" "${py_error["venv $what"]}"
      fi ;;
  esac
done

if [ "$failed" -gt 0 ]; then
  say "$failed of $checked checks failed"
  [ "$debian" = " " ] || say "install the Debian packages${debian% } (and list them in scripts/debian-packages.txt)"
  [ "$pypi" = " " ] || say "install${pypi% } from e2e/requirements.txt into the virtualenv"
  exit 1
fi
skipped=${skip# }
say "all $checked checks passed${venv:+ (Python modules with $venv)}${skipped:+ (left out: ${skipped% })}"
