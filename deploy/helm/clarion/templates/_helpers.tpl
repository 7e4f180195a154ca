{{/* ---------- names and labels ---------- */}}

{{- define "clarion.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "clarion.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* <fullname>-<suffix> within 63 characters: the full name is cut, never the suffix (two pools stay apart). (list $ "suffix") */}}
{{- define "clarion.suffixed" -}}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "clarion.fullname" (index . 0) | trunc (sub 62 (len $suffix) | int) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "clarion.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "clarion.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clarion.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels are built as maps and printed once: a key given twice (commonLabels and podLabels) would be invalid YAML. */}}
{{- define "clarion.labelMap" -}}
{{- $l := dict }}
{{- range $k, $v := .Values.commonLabels }}{{ $_ := set $l $k ($v | toString) }}{{ end }}
{{- $_ := set $l "helm.sh/chart" (include "clarion.chart" .) }}
{{- $_ := set $l "app.kubernetes.io/version" (.Chart.AppVersion | toString | replace "+" "_" | trunc 63 | trimSuffix "-") }}
{{- $_ := set $l "app.kubernetes.io/managed-by" .Release.Service }}
{{- $_ := set $l "app.kubernetes.io/part-of" "clarion" }}
{{- range $k, $v := (include "clarion.selectorLabels" . | fromYaml) }}{{ $_ := set $l $k $v }}{{ end }}
{{- toJson $l }}
{{- end }}

{{- define "clarion.labels" -}}
{{ include "clarion.labelMap" . | fromJson | toYaml }}
{{- end }}

{{/* Labels of one component. Call with (dict "ctx" $ "component" "api" "pool" "") */}}
{{- define "clarion.componentSelectorLabels" -}}
{{ include "clarion.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- if .pool }}
clarion.io/pool: {{ .pool }}
{{- end }}
{{- end }}

{{- define "clarion.componentLabelMap" -}}
{{- $l := include "clarion.labelMap" .ctx | fromJson }}
{{- range $k, $v := (include "clarion.componentSelectorLabels" . | fromYaml) }}{{ $_ := set $l $k $v }}{{ end }}
{{- toJson $l }}
{{- end }}

{{- define "clarion.componentLabels" -}}
{{ include "clarion.componentLabelMap" . | fromJson | toYaml }}
{{- end }}

{{/* A pod template's labels: the component's, podLabels and the component's own podLabels merged; selector labels always win. (dict "ctx" $ "component" .. "pool" .. "own" map) */}}
{{- define "clarion.podLabels" -}}
{{- $l := include "clarion.componentLabelMap" . | fromJson }}
{{- range $k, $v := .ctx.Values.podLabels }}{{ $_ := set $l $k ($v | toString) }}{{ end }}
{{- range $k, $v := .own }}{{ $_ := set $l $k ($v | toString) }}{{ end }}
{{- range $k, $v := (include "clarion.componentSelectorLabels" . | fromYaml) }}{{ $_ := set $l $k $v }}{{ end }}
{{- toYaml $l }}
{{- end }}

{{/* A pod template's annotations: checksums, podAnnotations, then the component's own, merged. (dict "ctx" $ "own" map) */}}
{{- define "clarion.podAnnotations" -}}
{{- $a := include "clarion.checksums" .ctx | fromYaml }}
{{- range $k, $v := .ctx.Values.podAnnotations }}{{ $_ := set $a $k ($v | toString) }}{{ end }}
{{- range $k, $v := .own }}{{ $_ := set $a $k ($v | toString) }}{{ end }}
{{- toYaml $a }}
{{- end }}

{{- define "clarion.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "clarion.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "clarion.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* CLARION_<PLUGIN>_ prefix for a plugin name: apns -> CLARION_APNS_, my-pager -> CLARION_MY_PAGER_ */}}
{{- define "clarion.providerEnvPrefix" -}}
{{- printf "CLARION_%s_" (. | upper | replace "-" "_" | replace "." "_") }}
{{- end }}

{{/* ---------- checks that values.schema.json cannot express ---------- */}}

{{/* One worker pool merged over workers.poolDefaults, as JSON: (dict "ctx" $ "pool" <pool>) */}}
{{- define "clarion.pool" -}}
{{- $out := dict }}
{{- range $k, $v := .ctx.Values.workers.poolDefaults }}
{{- if hasKey $.pool $k }}
{{- $pv := index $.pool $k }}
{{- if and (kindIs "map" $v) (kindIs "map" $pv) }}
{{- $m := dict }}
{{- range $k2, $v2 := $v }}{{ $_ := set $m $k2 $v2 }}{{ end }}
{{- range $k2, $v2 := $pv }}{{ $_ := set $m $k2 $v2 }}{{ end }}
{{- $_ := set $out $k $m }}
{{- else }}
{{- $_ := set $out $k $pv }}
{{- end }}
{{- else }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- end }}
{{- range $k, $v := .pool }}
{{- if not (hasKey $out $k) }}{{ $_ := set $out $k $v }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{- define "clarion.validate" -}}
{{- $shutdownS := div (add .Values.config.shutdownTimeoutMs 999) 1000 | int }}
{{- $drainS := div (add .Values.config.shutdownDrainMs 999) 1000 | int }}
{{- if and .Values.api.enabled (le (int .Values.api.terminationGracePeriodSeconds) (add $shutdownS $drainS .Values.api.preStopSleepSeconds | int)) }}
{{- fail (printf "api.terminationGracePeriodSeconds (%d) must be longer than config.shutdownTimeoutMs (%ds) plus config.shutdownDrainMs (%ds) plus api.preStopSleepSeconds (%d)" (int .Values.api.terminationGracePeriodSeconds) $shutdownS $drainS (int .Values.api.preStopSleepSeconds)) }}
{{- end }}
{{- if and .Values.workers.enabled (le (int .Values.workers.terminationGracePeriodSeconds) $shutdownS) }}
{{- fail (printf "workers.terminationGracePeriodSeconds (%d) must be longer than config.shutdownTimeoutMs (%ds), so in-flight sends finish before the kill" (int .Values.workers.terminationGracePeriodSeconds) $shutdownS) }}
{{- end }}
{{- $seen := dict }}
{{- range $plugin, $p := .Values.providers }}
{{- if and $p.existingSecret $p.files }}
{{- $secret := lookup "v1" "Secret" $.Release.Namespace $p.existingSecret }}
{{- range $name, $key := $p.files }}
{{- if and $secret (not (hasKey (default (dict) $secret.data) $key)) }}
{{- fail (printf "providers.%s.files.%s: Secret %q has no key %q" $plugin $name $p.existingSecret $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range .Values.workers.pools }}
{{- if hasKey $seen .name }}
{{- fail (printf "workers.pools: the pool name %q is used twice" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- end }}
{{- range $item := list "database" "redis" "adminToken" "encryptionKey" }}
{{- $v := index $.Values $item }}
{{- if and (not (or $v.url $v.value)) $v.existingSecret }}
{{- /* On a cluster (not `helm template`), an existing Secret without the key fails here, not in a crash-looping pod. */}}
{{- $secret := lookup "v1" "Secret" $.Release.Namespace $v.existingSecret }}
{{- if and $secret (not (hasKey (default (dict) $secret.data) $v.existingSecretKey)) }}
{{- fail (printf "%s.existingSecretKey: Secret %q has no key %q (it has: %s)" $item $v.existingSecret $v.existingSecretKey (keys (default (dict) $secret.data) | sortAlpha | join ", ")) }}
{{- end }}
{{- end }}
{{- if and (not (or $v.url $v.value)) (not $v.existingSecret) }}
{{- fail (printf "%s: set either an inline value (%s.%s) or %s.existingSecret" $item $item (ternary "url" "value" (hasKey $v "url")) $item) }}
{{- end }}
{{- end }}
{{- end }}

{{/* A PDB's budget: minAvailable when given (it wins), else maxUnavailable. */}}
{{- define "clarion.pdbBudget" -}}
{{- if and (hasKey . "minAvailable") (not (kindIs "invalid" .minAvailable)) (ne (toString .minAvailable) "") }}
minAvailable: {{ .minAvailable }}
{{- else }}
maxUnavailable: {{ .maxUnavailable }}
{{- end }}
{{- end }}

{{/* ---------- configuration ---------- */}}

{{/* Plain settings shared by every process (ConfigMap data; the migration Job gets them inline). */}}
{{- define "clarion.configData" -}}
HOST: "0.0.0.0"
PORT: "3000"
CLARION_METRICS_PORT: {{ .Values.metrics.port | int64 | toString | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
CLARION_PUBLIC_URL: {{ .Values.config.publicUrl | quote }}
{{- if .Values.config.plugins }}
CLARION_PLUGINS: {{ join "," .Values.config.plugins | quote }}
{{- end }}
CLARION_QUEUE_PREFIX: {{ .Values.config.queuePrefix | quote }}
{{- with .Values.redis.sentinels }}
REDIS_SENTINELS: {{ join "," . | quote }}
REDIS_SENTINEL_MASTER: {{ $.Values.redis.sentinelMaster | quote }}
{{- end }}
{{- with .Values.redis.clusterNodes }}
REDIS_CLUSTER_NODES: {{ join "," . | quote }}
{{- end }}
CLARION_SHUTDOWN_TIMEOUT_MS: {{ .Values.config.shutdownTimeoutMs | int64 | toString | quote }}
CLARION_SHUTDOWN_DRAIN_MS: {{ .Values.config.shutdownDrainMs | int64 | toString | quote }}
CLARION_PLUGIN_PATH: {{ .Values.config.pluginPath | quote }}
CLARION_MIGRATE_ON_START: "false"
{{- range $plugin, $p := .Values.providers }}
{{- range $k, $v := $p.env }}
{{ printf "%s%s" (include "clarion.providerEnvPrefix" $plugin) $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.config.extraEnv }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* Where each core secret comes from: (dict "ctx" $ "hook" bool) -> YAML list of {name,key,path,env} */}}
{{- define "clarion.coreSecretRefs" -}}
{{- $ctx := .ctx }}
{{- $inline := ternary (include "clarion.suffixed" (list $ctx "migration")) (include "clarion.suffixed" (list $ctx "core")) .hook }}
{{- $items := list (list "database" "url" "database-url" "DATABASE_URL") (list "redis" "url" "redis-url" "REDIS_URL") (list "adminToken" "value" "admin-token" "CLARION_ADMIN_TOKEN") (list "encryptionKey" "value" "encryption-key" "CLARION_ENCRYPTION_KEY") }}
{{- range $items }}
{{- $v := index $ctx.Values (index . 0) }}
{{- if index $v (index . 1) }}
- { name: {{ $inline | quote }}, key: {{ index . 2 | quote }}, path: {{ index . 2 | quote }}, env: {{ index . 3 | quote }} }
{{- else }}
- { name: {{ $v.existingSecret | quote }}, key: {{ $v.existingSecretKey | quote }}, path: {{ index . 2 | quote }}, env: {{ index . 3 | quote }} }
{{- end }}
{{- end }}
{{- end }}

{{/* Inline core secret values (base64), for the chart-managed Secret. */}}
{{- define "clarion.coreSecretData" -}}
{{- with .Values.database.url }}
database-url: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.redis.url }}
redis-url: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.adminToken.value }}
admin-token: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.encryptionKey.value }}
encryption-key: {{ . | b64enc | quote }}
{{- end }}
{{- end }}

{{/* Providers whose credentials a process gets: all for the API, a pool's own plugins for a pool. (dict "ctx" $ "plugins" list) */}}
{{- define "clarion.providerNames" -}}
{{- $names := list }}
{{- range $plugin, $p := .ctx.Values.providers }}
{{- if and $p.existingSecret $p.files (or (not $.plugins) (has $plugin $.plugins)) }}
{{- $names = append $names $plugin }}
{{- end }}
{{- end }}
{{- toJson $names }}
{{- end }}

{{/* ---------- pod pieces. Call with (dict "ctx" $ "hook" bool "plugins" list) ---------- */}}

{{- define "clarion.secretEnv" -}}
{{- range (include "clarion.coreSecretRefs" (dict "ctx" .ctx "hook" .hook) | fromYamlArray) }}
- name: {{ .env }}_FILE
  value: /var/run/secrets/clarion/core/{{ .path }}
{{- end }}
{{- if not .hook }}
{{- range $plugin := (include "clarion.providerNames" (dict "ctx" .ctx "plugins" .plugins) | fromJsonArray) }}
{{- $p := index $.ctx.Values.providers $plugin }}
{{- range $name, $key := $p.files }}
- name: {{ printf "%s%s_FILE" (include "clarion.providerEnvPrefix" $plugin) $name }}
  value: /var/run/secrets/clarion/providers/{{ $plugin }}/{{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "clarion.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .ctx.Values.tmpSizeLimit }}
- name: core-secrets
  projected:
    defaultMode: 288 # 0440 (decimal: YAML 1.1 and 1.2 parsers disagree on 0440)
    sources:
    {{- range (include "clarion.coreSecretRefs" (dict "ctx" .ctx "hook" .hook) | fromYamlArray) }}
      - secret:
          name: {{ .name }}
          items:
            - key: {{ .key | quote }}
              path: {{ .path | quote }}
    {{- end }}
{{- if not .hook }}
{{- range $plugin := (include "clarion.providerNames" (dict "ctx" .ctx "plugins" .plugins) | fromJsonArray) }}
{{- $p := index $.ctx.Values.providers $plugin }}
- name: provider-{{ $plugin }}
  secret:
    secretName: {{ $p.existingSecret }}
    defaultMode: 288 # 0440 (decimal: YAML 1.1 and 1.2 parsers disagree on 0440)
    items:
    {{- range $name, $key := $p.files }}
      - key: {{ $key | quote }}
        path: {{ $key | quote }}
    {{- end }}
{{- end }}
{{- if .ctx.Values.extraPlugins.packages }}
- name: plugins-extra
  emptyDir: {}
{{- end }}
{{- end }}
{{- with .ctx.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "clarion.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: core-secrets
  mountPath: /var/run/secrets/clarion/core
  readOnly: true
{{- if not .hook }}
{{- range $plugin := (include "clarion.providerNames" (dict "ctx" .ctx "plugins" .plugins) | fromJsonArray) }}
- name: provider-{{ $plugin }}
  mountPath: /var/run/secrets/clarion/providers/{{ $plugin }}
  readOnly: true
{{- end }}
{{- if .ctx.Values.extraPlugins.packages }}
- name: plugins-extra
  mountPath: /app/plugins-extra
  readOnly: true
{{- end }}
{{- end }}
{{- with .ctx.Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "clarion.initContainers" -}}
{{- if .Values.extraPlugins.packages }}
- name: install-plugins
  image: {{ include "clarion.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  # --legacy-peer-deps: peers (@clarion/plugin-sdk, zod, prom-client) are not installed, not even looked up
  # (--omit=peer still looks them up: E404 where the SDK is not on the registry); the image has them.
  command: ["npm", "install", "--prefix", "/app/plugins-extra", "--omit=dev", "--legacy-peer-deps", "--no-fund", "--no-audit", "--no-save"
    {{- range .Values.extraPlugins.packages }}, {{ . | quote }}{{ end }}]
  env:
    - name: HOME
      value: /tmp
    - name: npm_config_cache
      value: /tmp/.npm
    {{- with .Values.extraPlugins.registry }}
    - name: npm_config_registry
      value: {{ . | quote }}
    {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  {{- with .Values.extraPlugins.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: plugins-extra
      mountPath: /app/plugins-extra
{{- end }}
{{- end }}

{{- define "clarion.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ .Values.probes.startup.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  initialDelaySeconds: {{ .Values.probes.liveness.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  initialDelaySeconds: {{ .Values.probes.readiness.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
{{- end }}

{{/* Pod annotations that roll the pods when configuration or chart-managed secrets change. */}}
{{- define "clarion.checksums" -}}
checksum/config: {{ include "clarion.configData" . | sha256sum }}
checksum/secret: {{ include "clarion.coreSecretData" . | sha256sum }}
{{- end }}

{{/* Scheduling fields: (dict "ctx" $ "own" <api or pool values>) */}}
{{- define "clarion.scheduling" -}}
{{- with (default .ctx.Values.nodeSelector .own.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default .ctx.Values.tolerations .own.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default .ctx.Values.affinity .own.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .ctx.Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .ctx.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
