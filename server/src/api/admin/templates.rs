//! `/api/admin/llm/templates`: prompt templates (Prompt模板). `variables` is always derived
//! from the `{name}` placeholders; a list sent by the client is checked against it.

use chrono::{DateTime, Utc};
use entity::llm_prompt_templates::Model;
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    api::{
        ApiTags,
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::AdminAuth,
    db::{self, templates::TemplateFields},
    error::{AppError, AppResult},
    relay::template,
    state::AppState,
    validate,
};

#[derive(Debug, Object)]
pub struct TemplateView {
    pub id: i32,
    pub config_id: i32,
    pub template_name: String,
    pub template_content: String,
    /// Placeholder names in order of first appearance.
    pub variables: Vec<String>,
    #[oai(nullable)]
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct CreateTemplate {
    pub config_id: i32,
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub template_name: String,
    /// Text with `{variable}` placeholders.
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100000, pattern = "\\S"))]
    pub template_content: String,
    /// Optional: when given it must list exactly the placeholders of the content.
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    pub variables: Option<Vec<String>>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Change only the fields given.
#[derive(Debug, Object)]
pub struct UpdateTemplate {
    #[oai(nullable)]
    pub config_id: Option<i32>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub template_name: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100000, pattern = "\\S"))]
    pub template_content: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    pub variables: Option<Vec<String>>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

pub struct TemplatesApi;

#[OpenApi(prefix_path = "/admin/llm/templates", tag = "ApiTags::AdminTemplates")]
impl TemplatesApi {
    /// 获取模板列表（可按配置筛选）
    #[oai(path = "/", method = "get", operation_id = "admin_list_templates")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        config_id: Query<Option<i32>>,
    ) -> AppResult<Reply<Vec<TemplateView>>> {
        let rows = db::templates::list(&state.db, config_id.0, false).await?;
        Ok(ok(rows.iter().map(view).collect()))
    }

    /// 创建模板
    #[oai(path = "/", method = "post", operation_id = "admin_create_template")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<CreateTemplate>,
    ) -> AppResult<Reply<TemplateView>> {
        let body = body.0;
        db::configs::get(&state.db, body.config_id).await?;
        let fields = validated(
            TemplateFields {
                config_id: body.config_id,
                template_name: body.template_name,
                template_content: body.template_content,
                variables: Vec::new(),
                description: body.description,
                is_active: body.is_active.unwrap_or(true),
            },
            body.variables,
        )?;
        let row = db::templates::create(&state.db, fields).await?;
        Ok(ok(view(&row)))
    }

    /// 获取模板详情
    #[oai(path = "/:id", method = "get", operation_id = "admin_get_template")]
    async fn get(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<TemplateView>> {
        Ok(ok(view(&db::templates::get(&state.db, id.0).await?)))
    }

    /// 更新模板
    #[oai(path = "/:id", method = "put", operation_id = "admin_update_template")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateTemplate>,
    ) -> AppResult<Reply<TemplateView>> {
        let body = body.0;
        let mut fields = TemplateFields::of(&db::templates::get(&state.db, id.0).await?);
        if let Some(config_id) = body.config_id {
            db::configs::get(&state.db, config_id).await?;
            fields.config_id = config_id;
        }
        if let Some(name) = body.template_name {
            fields.template_name = name;
        }
        if let Some(content) = body.template_content {
            fields.template_content = content;
        }
        if let Some(description) = body.description {
            fields.description = Some(description);
        }
        if let Some(active) = body.is_active {
            fields.is_active = active;
        }
        let fields = validated(fields, body.variables)?;
        Ok(ok(view(
            &db::templates::update(&state.db, id.0, fields).await?,
        )))
    }

    /// 删除模板
    #[oai(
        path = "/:id",
        method = "delete",
        operation_id = "admin_delete_template"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        db::templates::delete(&state.db, id.0).await?;
        Ok(deleted(id.0))
    }
}

fn validated(fields: TemplateFields, declared: Option<Vec<String>>) -> AppResult<TemplateFields> {
    let content = fields.template_content.trim().to_string();
    if content.is_empty() {
        return Err(AppError::validation("template_content", "模板内容不能为空"));
    }
    if content.chars().count() > 100_000 {
        return Err(AppError::validation(
            "template_content",
            "模板内容不能超过 100000 个字符",
        ));
    }
    let detected = template::variables(&content);
    if let Some(declared) = declared {
        let mut declared: Vec<String> =
            declared.into_iter().map(|v| v.trim().to_string()).collect();
        declared.sort();
        declared.dedup();
        let mut expected = detected.clone();
        expected.sort();
        if declared != expected {
            return Err(AppError::validation(
                "variables",
                format!(
                    "变量列表与模板内容中的占位符不一致：内容中为 [{}]",
                    detected.join(", ")
                ),
            ));
        }
    }
    Ok(TemplateFields {
        config_id: fields.config_id,
        template_name: validate::text("template_name", "模板名称", &fields.template_name, 100)?,
        template_content: content,
        variables: detected,
        description: validate::optional_text("description", "模板说明", fields.description, 2000)?,
        is_active: fields.is_active,
    })
}

pub fn view(row: &Model) -> TemplateView {
    TemplateView {
        id: row.id,
        config_id: row.config_id,
        template_name: row.template_name.clone(),
        template_content: row.template_content.clone(),
        variables: db::templates::variables_of(row),
        description: row.description.clone(),
        is_active: row.is_active,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
