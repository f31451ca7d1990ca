#!/usr/bin/env bash
# No mutable globals (issue 9): state belongs to an object its owner creates
# and passes on, so that two gateways, a test and a reload never share it by
# accident. This fails on every variable of static storage duration in src/
# that is not const: a file-scope variable, static or not, and a static
# inside a function. "const" means the object itself: an array of
# "const char *" is writable (its pointers are), "const char *const" is not.
# Declarations (extern, typedef, function prototypes) are not variables.
#
# Usage: scripts/check-globals.sh [ROOT]   (ROOT defaults to the checkout)
# Exit 1 naming "FILE:LINE: NAME" for each one not allowed.
#
# Allowed: scripts/globals-allowed.txt lists "FILE NAME" lines that may stay
# (each with its reason). A listed one that no longer exists fails, so the
# list only shrinks.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

found=$(find src -name '*.[ch]' | sort | xargs perl -e '
use strict; use warnings;

# Blank out comments, string and character literals and preprocessor lines,
# keeping every newline so that offsets still give line numbers.
sub scrub {
	my ($t) = @_;
	$t =~ s{("(?:\\.|[^"\\\n])*")|(\x27(?:\\.|[^\x27\\\n])*\x27)|(/\*.*?\*/)|(//[^\n]*)}{
		my $m = $&; my $nl = ($m =~ tr/\n//);
		defined $1 ? "\"\"" : defined $2 ? "0" : " " . ("\n" x $nl)
	}gse;
	$t =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{ my $n = ($& =~ tr/\n//); "\n" x $n }gme;
	return $t;
}

# The index just past the brace group that opens at $i.
sub skip_braces {
	my ($t, $i) = @_;
	my $d = 0;
	for (; $i < length $t; $i++) {
		my $c = substr($t, $i, 1);
		$d++ if $c eq "{";
		if ($c eq "}") { $d--; return $i + 1 if $d == 0; }
	}
	return $i;
}

# Is the object a declarator declares const? The last "*" outside a
# parameter list must be followed by const; with none, the type must be.
sub declarator_const {
	my ($spec, $decl) = @_;
	1 while $decl =~ s/\)\s*\([^()]*\)/)/;   # parameter lists of function pointers
	if ($decl =~ /\*/) {
		my $after = $decl; $after =~ s/.*\*//s;
		return $after =~ /\bconst\b/;
	}
	return "$spec $decl" =~ /\bconst\b/;
}

# One declaration (text up to its ";", bodies and initialisers included):
# the names of its non-const variables.
sub mutable_names {
	my ($d) = @_;
	$d =~ s/__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)//g;
	1 while $d =~ s/\{[^{}]*\}/\x01/g;        # struct bodies, initialisers
	$d =~ s/\x01/{}/g;
	return () if $d =~ /^\s*(typedef|extern|_Static_assert|static_assert)\b/;
	return () if $d =~ /\bextern\b/;
	# cut initialisers: "=" up to the next "," outside parentheses
	my ($out, $depth, $skip) = ("", 0, 0);
	for my $c (split //, $d) {
		$depth++ if $c eq "(";
		$depth-- if $c eq ")";
		if ($depth == 0 && $c eq "=") { $skip = 1; next; }
		if ($depth == 0 && $c eq ",") { $skip = 0; }
		$out .= $c unless $skip;
	}
	$out =~ s/\[[^\[\]]*\]/[]/g;
	my @parts = ("");
	$depth = 0;
	for my $c (split //, $out) {
		$depth++ if $c eq "(";
		$depth-- if $c eq ")";
		if ($depth == 0 && $c eq ",") { push @parts, ""; next; }
		$parts[-1] .= $c;
	}
	my $first = shift @parts;
	# a tag alone: "struct x;", "enum y {...};"
	return () if $first =~ /^\s*(?:struct|union|enum)\b(?:\s+\w+)?\s*(?:\{\})?\s*$/;
	# a function: its first "(" follows its name and opens its parameters
	# (a "(*" opens a pointer declarator instead)
	return () if $first =~ /^[^(]*\w\s*\((?!\s*\*)/;
	my ($spec, $decl);
	if ($first =~ /^(.*?)([(*].*)$/s) { ($spec, $decl) = ($1, $2); }
	elsif ($first =~ /^(.*?)(\w+\s*(?:\[\]\s*)*)$/s) { ($spec, $decl) = ($1, $2); }
	else { return (); }
	return () unless $spec =~ /\w/;             # a bare struct or enum definition
	my @names;
	for my $dd ($decl, @parts) {
		my ($name) = $dd =~ /(\w+)\s*(?:\[\]\s*)*\)?\s*(?:\(.*\))?\s*$/s;
		($name) = $dd =~ /(\w+)/ unless defined $name;
		next unless defined $name;
		push @names, $name unless declarator_const($spec, $dd);
	}
	return @names;
}

sub line_of { my ($t, $i) = @_; return 1 + (substr($t, 0, $i) =~ tr/\n//); }

# Block scope: only "static" declarations have static storage.
sub scan_body {
	my ($file, $t, $from, $to) = @_;
	my $body = substr($t, $from, $to - $from);
	while ($body =~ /\bstatic\b/g) {
		my $s = $-[0];
		my ($i, $d) = ($s, 0);
		for (; $i < length $body; $i++) {
			my $c = substr($body, $i, 1);
			$d++ if $c eq "{";
			$d-- if $c eq "}";
			last if $d == 0 && $c eq ";";
		}
		my $text = substr($body, $s, $i - $s);
		print "$file:", line_of($t, $from + $s), ": $_\n" for mutable_names($text);
		pos($body) = $i;
	}
}

for my $file (@ARGV) {
	open(my $fh, "<", $file) or die "$file: $!";
	local $/; my $t = scrub(<$fh>); close $fh;
	my ($i, $start) = (0, 0);
	my $paren = 0;
	while ($i < length $t) {
		my $c = substr($t, $i, 1);
		if ($c eq "(") { $paren++; }
		elsif ($c eq ")") { $paren--; }
		elsif ($c eq ";" && $paren == 0) {
			my $text = substr($t, $start, $i - $start);
			(my $lead = $text) =~ s/^(\s*).*/$1/s;
			print "$file:", line_of($t, $start + length $lead), ": $_\n" for mutable_names($text);
			$start = $i + 1;
		} elsif ($c eq "{" && $paren == 0) {
			my $end = skip_braces($t, $i);
			my $head = substr($t, $start, $i - $start);
			if ($head =~ /\)\s*$/) {           # a function body
				scan_body($file, $t, $i + 1, $end - 1);
				$start = $end;
			}
			$i = $end;
			next;
		}
		$i++;
	}
}
')

allowed_file=scripts/globals-allowed.txt
declare -A allowed seen
if [ -f "$allowed_file" ]; then
  while read -r f n _; do
    case "$f" in ''|'#'*) continue ;; esac
    allowed["$f $n"]=1
  done < "$allowed_file"
fi

fail=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  file=${line%%:*}; name=${line##*: }
  if [ -n "${allowed["$file $name"]+x}" ]; then
    seen["$file $name"]=1; continue
  fi
  echo "globals: $line is a mutable global (make it const, or a field of an object its owner passes)"
  fail=1
done <<< "$found"

for k in "${!allowed[@]}"; do
  if [ -z "${seen[$k]+x}" ]; then
    echo "globals: $allowed_file lists \"$k\", which is gone: delete the line"; fail=1
  fi
done
exit $fail
