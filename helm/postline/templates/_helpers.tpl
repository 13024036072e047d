{{/* Chart name, truncated to 63 characters. */}}
{{- define "postline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release>-<chart> unless the release name already contains the chart's. */}}
{{- define "postline.fullname" -}}
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

{{- define "postline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "postline.labels" -}}
helm.sh/chart: {{ include "postline.chart" . }}
{{ include "postline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: postline
{{- end }}

{{- define "postline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component; call with (dict "root" $ "component" "inbound-mx"). */}}
{{- define "postline.componentLabels" -}}
{{ include "postline.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "postline.componentSelectorLabels" -}}
{{ include "postline.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* values key -> service name (dist/bin/<name>.mjs). */}}
{{- define "postline.components" -}}
inboundMx: inbound-mx
submission: submission
spamFilter: spam-filter
delivery: delivery
imapPop3: imap-pop3
adminApi: admin-api
{{- end }}

{{/* Port name -> the environment variable that sets the service's listening port. */}}
{{- define "postline.portEnv" -}}
smtp: POSTLINE_MX_PORT
submission: POSTLINE_SUBMISSION_PORT
submissions: POSTLINE_SUBMISSIONS_PORT
imap: POSTLINE_IMAP_PORT
imaps: POSTLINE_IMAPS_PORT
pop3: POSTLINE_POP3_PORT
pop3s: POSTLINE_POP3S_PORT
http: POSTLINE_ADMIN_PORT
{{- end }}

{{/* Components that terminate TLS and get the certificate mounted. */}}
{{- define "postline.tlsComponents" -}}
inbound-mx submission imap-pop3
{{- end }}

{{/* Components whose ports face mail clients and servers (LoadBalancer Services). */}}
{{- define "postline.mailComponents" -}}
inbound-mx submission imap-pop3
{{- end }}

{{- define "postline.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "postline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "postline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "postline.secretName" -}}
{{- default (printf "%s-secrets" (include "postline.fullname" .)) .Values.existingSecret }}
{{- end }}

{{- define "postline.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "postline.fullname" .)) .Values.tls.secretName }}
{{- end }}

{{/* The env entries that come from Secrets (database URL, S3 keys, admin token). */}}
{{- define "postline.secretEnv" -}}
{{- $secret := include "postline.secretName" . -}}
- name: POSTLINE_DATABASE_URL
  valueFrom:
    secretKeyRef:
{{- if and (not .Values.existingSecret) .Values.database.existingSecret.name }}
      name: {{ .Values.database.existingSecret.name }}
      key: {{ .Values.database.existingSecret.key }}
{{- else }}
      name: {{ $secret }}
      key: POSTLINE_DATABASE_URL
{{- end }}
- name: POSTLINE_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
{{- if and (not .Values.existingSecret) .Values.s3.existingSecret.name }}
      name: {{ .Values.s3.existingSecret.name }}
      key: {{ .Values.s3.existingSecret.accessKeyKey }}
{{- else }}
      name: {{ $secret }}
      key: POSTLINE_S3_ACCESS_KEY
{{- end }}
- name: POSTLINE_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
{{- if and (not .Values.existingSecret) .Values.s3.existingSecret.name }}
      name: {{ .Values.s3.existingSecret.name }}
      key: {{ .Values.s3.existingSecret.secretKeyKey }}
{{- else }}
      name: {{ $secret }}
      key: POSTLINE_S3_SECRET_KEY
{{- end }}
- name: POSTLINE_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: POSTLINE_ADMIN_TOKEN
{{- end }}

{{/* The admin token: the value given, else the one already in the cluster, else a new random one. */}}
{{- define "postline.adminToken" -}}
{{- if .Values.admin.token }}
{{- .Values.admin.token }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-secrets" (include "postline.fullname" .)) }}
{{- if and $existing $existing.data (hasKey $existing.data "POSTLINE_ADMIN_TOKEN") }}
{{- index $existing.data "POSTLINE_ADMIN_TOKEN" | b64dec }}
{{- else }}
{{- randAlphaNum 40 }}
{{- end }}
{{- end }}
{{- end }}

{{/* The pod template's checksum annotations, so config changes roll the pods. */}}
{{- define "postline.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end }}
