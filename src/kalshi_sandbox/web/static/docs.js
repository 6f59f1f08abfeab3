// Swagger UI over the sandbox's two OpenAPI documents (served by the sandbox itself).
window.ui = SwaggerUIBundle({
  urls: [
    { url: "/trade-api/v2/openapi.json", name: "Kalshi Trade API v2" },
    { url: "/sandbox/v1/openapi.json", name: "kalshi-sandbox control plane" },
  ],
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  validatorUrl: null,
});
