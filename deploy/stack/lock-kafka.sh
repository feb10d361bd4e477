#!/usr/bin/env bash
# Regenerate deploy/stack/kafka-<version>.lock: the runtime jars of org.apache.kafka:kafka_2.13
# plus the log4j2 binding of slf4j, as Maven resolves them, each with its sha256.
# Maintainers only (needs mvn); users download the pinned jars with `newsflow stack fetch`.
set -euo pipefail
version=${1:?usage: deploy/stack/lock-kafka.sh KAFKA_VERSION}
out="$(cd "$(dirname "$0")" && pwd)/kafka-${version}.lock"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pom() {  # $1: extra <dependency> elements
  cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>kafka-lock</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    $1
  </dependencies>
</project>
POM
}
mvn_() { (cd "$work" && mvn -q -B -Dstyle.color=never "$@" >/dev/null); }
resolve() { mvn_ dependency:list -DincludeScope=runtime -DoutputFile=deps.txt; }

# Kafka depends on slf4j-api only; the broker needs the log4j2 binding of the same log4j version.
pom ""
resolve
log4j=$(grep -o 'org.apache.logging.log4j:log4j-api:jar:[^:]*' "$work/deps.txt" | cut -d: -f4)
pom "<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${log4j}</version></dependency>"
resolve

# The jars in Maven's repository layout, as Maven Central serves them.
mvn_ dependency:copy-dependencies -DincludeScope=runtime -Dmdep.useRepositoryLayout=true \
  -DoutputDirectory="$work/repo"
{
  echo "# org.apache.kafka:kafka_2.13:${version} runtime jars, resolved by Maven; one line per jar:"
  echo "# groupId:artifactId:version[:extension[:classifier]]  sha256. Made by deploy/stack/lock-kafka.sh."
  grep -E '^ +[^ ]+:jar:' "$work/deps.txt" | sed 's/^ *//' | sort | while IFS=: read -r g a _ v _; do
    jar="$work/repo/${g//.//}/$a/$v/$a-$v.jar"
    printf '%s:%s:%s  %s\n' "$g" "$a" "$v" "$(sha256sum "$jar" | cut -c1-64)"
  done
} > "$out"
echo "wrote $out ($(grep -vc '^#' "$out") jars)"
