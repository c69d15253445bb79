fn main() {
    yew::Renderer::<App>::new().render();
}
#[yew::function_component]
fn App() -> yew::Html {
    yew::html! { <h1>{ "llm-proxy" }</h1> }
}
